package dev.kiln.emulator.replicate;

import dev.kiln.emulator.hosted.HostedFaults;
import dev.kiln.emulator.hosted.HostedJob;
import dev.kiln.emulator.http.EmulatorHttp;
import dev.kiln.emulator.http.WebhookSender;
import dev.kiln.emulator.support.BlobCache;
import static dev.kiln.emulator.http.EmulatorHttp.answer;
import static dev.kiln.emulator.http.EmulatorHttp.send;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.emulator.support.Json;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.imageio.ImageIO;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A local Replicate HTTP API (docs/PROVIDERS.md, "Replicate") on the JDK HTTP server, bound to
 * 127.0.0.1. Point a Replicate account's base URL at {@link #apiUrl()}.
 *
 * <ul>
 *   <li>{@code POST /v1/models/{owner}/{name}/predictions} (any model) and {@code POST /v1/predictions}
 *       ({@code version}: {@code owner/name}, {@code owner/name:<64 hex>} or {@code <64 hex>}), with
 *       {@code Prefer: wait[=N]}, {@code webhook} and {@code webhook_events_filter}; 201, or 202 when a wait ran out
 *   <li>{@code GET /v1/predictions/{id}}, {@code POST /v1/predictions/{id}/cancel}
 *   <li>{@code GET /v1/predictions} ({@code created_after}, {@code created_before}; 100 per page, newest
 *       first, {@code next} cursor URLs)
 *   <li>{@code POST /v1/files} (multipart {@code content}, {@code filename}, {@code type}, {@code metadata}) → 201 file
 *       object; {@code GET /v1/files}, {@code GET|DELETE /v1/files/{id}}. A file's {@code urls.get} works as a
 *       prediction input, as the client libraries use it (replicate-python {@code helpers.encode_json})
 *   <li>{@code GET /v1/webhooks/default/secret}, {@code GET /v1/account}
 *   <li>{@code GET /files/{id}/{i}.{ext}}: the "replicate.delivery" CDN, no auth; files and inputs are
 *       removed after {@link Config#outputTtl()} ({@code data_removed: true}), as Replicate does after an hour
 * </ul>
 * Statuses {@code starting → processing → succeeded | failed | canceled}; errors are problem details
 * {@code {title, detail, status}}; webhooks are Standard-Webhooks signed ({@code v1,<base64>}).
 * The models Kiln's catalogue binds are checked against their own input schemas
 * ({@link ReplicateModels}); a prediction's {@code input} does not keep data URIs, which Replicate
 * does not store.
 */
public final class ReplicateEmulator implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ReplicateEmulator.class.getName());
    private static final int MAX_JSON = 32 * 1024 * 1024;
    private static final Pattern VERSION = Pattern.compile("(?:([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*):)?([0-9a-f]{64})");
    private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern PREFER = Pattern.compile("wait(=([1-9]|[1-9][0-9]|60))?");
    private static final Pattern RATIO = Pattern.compile("(\\d{1,2}):(\\d{1,2})");
    private static final Set<String> EVENTS = Set.of("start", "output", "logs", "completed");
    private static final int MIN_SIDE = 16;

    /**
     * How the emulator behaves.
     *
     * @param port TCP port on 127.0.0.1, 0 for any free one
     * @param apiToken the token every {@code /v1} call must present ({@code Bearer} or {@code Token}), or null for none
     * @param latency how long a prediction takes from creation to its result (a quarter of it {@code starting})
     * @param failRate share of predictions that end {@code failed}
     * @param webhookSecret the signing secret, {@code whsec_<base64>}
     * @param outputTtl how long outputs, inputs and logs are kept ({@code data_removed} after)
     * @param versions known model versions (64 hex → owner/name); empty accepts every well-formed version
     * @param maxPredictions predictions remembered; older ones are forgotten (404)
     * @param randomSeed seeds the fail-rate draws and random image seeds
     * @param webhookAttempts deliveries tried per webhook
     * @param webhookRetryDelay pause after the first failed delivery, growing linearly
     */
    public record Config(int port, String apiToken, Duration latency, double failRate, String webhookSecret,
                         Duration outputTtl, Map<String, String> versions, int maxPredictions, long randomSeed,
                         int webhookAttempts, Duration webhookRetryDelay) {

        public Config {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port: " + port);
            if (latency == null || latency.isNegative()) throw new IllegalArgumentException("latency: " + latency);
            if (!(failRate >= 0 && failRate <= 1)) throw new IllegalArgumentException("failRate must be 0..1: " + failRate);
            if (webhookSecret == null || !webhookSecret.startsWith("whsec_")) throw new IllegalArgumentException("webhookSecret must be whsec_<base64>");
            try {
                if (Base64.getDecoder().decode(webhookSecret.substring(6)).length == 0) throw new IllegalArgumentException("empty webhookSecret");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("webhookSecret must be whsec_<base64>", e);
            }
            if (outputTtl == null || outputTtl.isNegative() || outputTtl.isZero()) throw new IllegalArgumentException("outputTtl: " + outputTtl);
            versions = versions == null ? Map.of() : Map.copyOf(versions);
            if (maxPredictions < 1 || webhookAttempts < 1) throw new IllegalArgumentException("maxPredictions and webhookAttempts must be positive");
            if (webhookRetryDelay == null || webhookRetryDelay.isNegative()) throw new IllegalArgumentException("webhookRetryDelay");
        }

        /** Any free port, no token, instant predictions, no failures, a fresh secret, outputs kept one hour. */
        public static Config defaults() {
            return new Config(0, null, Duration.ZERO, 0, newSecret(), Duration.ofHours(1), Map.of(), 50_000, 1, 3,
                    Duration.ofMillis(500));
        }

        /** A fresh {@code whsec_<base64 of 24 random bytes>} secret, as Replicate's. */
        public static String newSecret() {
            byte[] b = new byte[24];
            new SecureRandom().nextBytes(b);
            return "whsec_" + Base64.getEncoder().encodeToString(b);
        }

        public Config withPort(int p) {
            return new Config(p, apiToken, latency, failRate, webhookSecret, outputTtl, versions, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withApiToken(String t) {
            return new Config(port, t, latency, failRate, webhookSecret, outputTtl, versions, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withLatency(Duration d) {
            return new Config(port, apiToken, d, failRate, webhookSecret, outputTtl, versions, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withFailRate(double r) {
            return new Config(port, apiToken, latency, r, webhookSecret, outputTtl, versions, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withWebhookSecret(String s) {
            return new Config(port, apiToken, latency, failRate, s, outputTtl, versions, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withOutputTtl(Duration d) {
            return new Config(port, apiToken, latency, failRate, webhookSecret, d, versions, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        /** Only these versions (64 hex → owner/name) exist; others answer 422. */
        public Config withVersions(Map<String, String> v) {
            return new Config(port, apiToken, latency, failRate, webhookSecret, outputTtl, v, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withRandomSeed(long s) {
            return new Config(port, apiToken, latency, failRate, webhookSecret, outputTtl, versions, maxPredictions, s, webhookAttempts, webhookRetryDelay);
        }

        public Config withWebhookRetries(int attempts, Duration delay) {
            return new Config(port, apiToken, latency, failRate, webhookSecret, outputTtl, versions, maxPredictions, randomSeed, attempts, delay);
        }
    }


    /** One accepted create call, in arrival order. */
    public record Submission(String id, String model, String version, JsonNode input, String webhook, List<String> events,
                             String prefer, Instant at) {}

    private final Config config;
    private final HttpServer server;
    private final ExecutorService executor;
    private final String baseUrl;
    private final HostedFaults faults = new HostedFaults();
    private final WebhookSender webhooks;
    private final Map<String, HostedJob> jobs = new ConcurrentHashMap<>();
    private final Map<String, List<String>> filters = new ConcurrentHashMap<>();
    private final Map<String, String> failureReasons = new ConcurrentHashMap<>();
    private final ConcurrentLinkedDeque<HostedJob> order = new ConcurrentLinkedDeque<>();
    private final AtomicInteger count = new AtomicInteger();
    private final ArrayDeque<Submission> submissions = new ArrayDeque<>();
    private final BlobCache outputs = new BlobCache(64L * 1024 * 1024);
    private final ReplicateModels models = ReplicateModels.load();
    private final ReplicateFiles fileApi = new ReplicateFiles();
    private final SplittableRandom random;
    private final HttpClient fetcher;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ReplicateEmulator(Config config) throws IOException {
        this.config = config;
        this.random = new SplittableRandom(config.randomSeed());
        this.webhooks = new WebhookSender("replicate-emulator", config.webhookAttempts(), config.webhookRetryDelay());
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        this.server = EmulatorHttp.loopbackServer(config.port(), executor, this::handle);
        this.baseUrl = EmulatorHttp.baseUrl(server);
        this.fetcher = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NORMAL).executor(executor).build();
    }

    /** Starts an emulator; close it when done. */
    public static ReplicateEmulator start(Config config) {
        try {
            ReplicateEmulator e = new ReplicateEmulator(config);
            e.server.start();
            LOG.log(System.Logger.Level.DEBUG, "Replicate emulator listening on {0}", e.baseUrl);
            return e;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the Replicate emulator on port " + config.port(), e);
        }
    }

    /** Where it listens, e.g. {@code http://127.0.0.1:43121}. */
    public String baseUrl() {
        return baseUrl;
    }

    /** The API root to use as a Replicate account's base URL: {@code baseUrl() + "/v1"}. */
    public String apiUrl() {
        return baseUrl + "/v1";
    }

    public Config config() {
        return config;
    }

    public HostedFaults faults() {
        return faults;
    }

    /** Accepted create calls so far, oldest first. */
    public List<Submission> submissions() {
        synchronized (submissions) {
            return List.copyOf(submissions);
        }
    }

    /** A prediction's status ({@code starting}, {@code processing}, {@code succeeded}, {@code failed}, {@code canceled}), or null. */
    public String status(String id) {
        HostedJob j = jobs.get(id);
        return j == null ? null : status(j);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        server.stop(0);
        webhooks.close();
        executor.shutdownNow();
        outputs.clear();
    }

    /** A Replicate-style id: 26 characters of lower-case base32. */
    static String newId() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        ThreadLocalRandom r = ThreadLocalRandom.current();
        StringBuilder sb = new StringBuilder(26);
        for (int i = 0; i < 26; i++) sb.append(alphabet.charAt(r.nextInt(32)));
        return sb.toString();
    }

    // ---- plumbing

    private static ObjectNode problem(int status, String title, String detail) {
        ObjectNode o = Json.object();
        o.put("title", title);
        o.put("detail", detail);
        o.put("status", status);
        return o;
    }

    private static EmulatorHttp.Refused invalid(String detail) {
        return new EmulatorHttp.Refused(422, problem(422, "Input validation failed", detail));
    }

    private void handle(HttpExchange ex) {
        try {
            Duration delay = faults.takeDelay();
            if (delay != null) Thread.sleep(delay);
            route(ex);
        } catch (EmulatorHttp.Drop d) {
            // close without an answer
        } catch (EmulatorHttp.Refused r) {
            EmulatorHttp.answerQuietly(ex, r.status, r.body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "Replicate emulator request failed", e);
            EmulatorHttp.answerQuietly(ex, 500, problem(500, "Internal Server Error", "internal error"));
        } finally {
            ex.close();
        }
    }

    private void route(HttpExchange ex) throws IOException, InterruptedException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        if (path.startsWith("/files/") && method.equals("GET")) {
            file(ex, path.substring("/files/".length()));
            return;
        }
        if (!path.startsWith("/v1/")) {
            answer(ex, 404, problem(404, "Not found", "Not found."));
            return;
        }
        if (!authorized(ex)) {
            answer(ex, 401, problem(401, "Unauthenticated", "You did not pass a valid authentication token"));
            return;
        }
        String rest = path.substring("/v1/".length());
        String[] seg = rest.split("/");
        if (rest.equals("account") && method.equals("GET")) {
            ObjectNode a = Json.object();
            a.put("type", "user");
            a.put("username", "kiln-sandbox");
            a.put("name", "Kiln sandbox");
            a.putNull("github_url");
            answer(ex, 200, a);
        } else if (rest.equals("webhooks/default/secret") && method.equals("GET")) {
            answer(ex, 200, Json.object().put("key", config.webhookSecret()));
        } else if (rest.equals("files") && method.equals("POST")) {
            fileApi.create(ex, apiUrl());
        } else if (rest.equals("files") && method.equals("GET")) {
            fileApi.list(ex, apiUrl());
        } else if (seg.length == 2 && seg[0].equals("files") && method.equals("GET")) {
            fileApi.get(ex, seg[1], apiUrl());
        } else if (seg.length == 2 && seg[0].equals("files") && method.equals("DELETE")) {
            fileApi.delete(ex, seg[1]);
        } else if (rest.equals("predictions") && method.equals("POST")) {
            create(ex, null);
        } else if (rest.equals("predictions") && method.equals("GET")) {
            list(ex);
        } else if (seg.length == 4 && seg[0].equals("models") && seg[3].equals("predictions") && method.equals("POST")) {
            create(ex, seg[1] + "/" + seg[2]);
        } else if (seg.length == 2 && seg[0].equals("predictions") && method.equals("GET")) {
            get(ex, seg[1]);
        } else if (seg.length == 3 && seg[0].equals("predictions") && seg[2].equals("cancel") && method.equals("POST")) {
            cancel(ex, seg[1]);
        } else {
            answer(ex, 404, problem(404, "Not found", "Not found."));
        }
    }

    private boolean authorized(HttpExchange ex) {
        if (config.apiToken() == null) return true;
        String h = ex.getRequestHeaders().getFirst("Authorization");
        if (h == null) return false;
        byte[] given = h.getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, ("Bearer " + config.apiToken()).getBytes(StandardCharsets.UTF_8))
                | MessageDigest.isEqual(given, ("Token " + config.apiToken()).getBytes(StandardCharsets.UTF_8));
    }

    // ---- create

    private void create(HttpExchange ex, String officialModel) throws IOException, InterruptedException {
        byte[] raw = EmulatorHttp.readBody(ex, MAX_JSON, problem(413, "Request Entity Too Large", "request body too large"));
        Duration retryAfter = faults.takeSubmitRateLimit();
        if (retryAfter != null) {
            long s = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
            ObjectNode p = problem(429, "Request was throttled.", "Request was throttled. Your rate limit resets in ~" + s + "s.");
            p.put("retry_after", s);
            send(ex, 429, "application/problem+json", Json.MAPPER.writeValueAsBytes(p), Map.of("Retry-After", Long.toString(s)));
            return;
        }
        if (faults.takeSubmitServerError()) {
            answer(ex, 500, problem(500, "Internal Server Error", "Something went wrong on our side."));
            return;
        }
        String prefer = ex.getRequestHeaders().getFirst("Prefer");
        long waitSeconds = 0;
        if (prefer != null) {
            Matcher m = PREFER.matcher(prefer.trim());
            if (!m.matches()) throw invalid("Prefer header must be wait or wait=N with N from 1 to 60");
            waitSeconds = m.group(2) == null ? 60 : Integer.parseInt(m.group(2));
            if (waitSeconds > 60) throw invalid("Prefer: wait=N must be from 1 to 60 seconds");
        }
        ObjectNode body = EmulatorHttp.jsonObject(raw);
        if (body == null) throw new EmulatorHttp.Refused(400, problem(400, "Bad Request", "request body must be a JSON object"));
        for (String f : body.propertyNames()) {
            boolean allowed = f.equals("input") || f.equals("webhook") || f.equals("webhook_events_filter") || f.equals("stream")
                    || (officialModel == null && f.equals("version"));
            if (!allowed) throw invalid("Additional property " + f + " is not allowed");
        }
        String model;
        String version;
        if (officialModel != null) {
            model = officialModel;
            version = "hidden";
        } else {
            String v = body.path("version").asString("");
            if (v.isEmpty()) throw invalid("version is required");
            Matcher m = VERSION.matcher(v);
            if (m.matches()) {
                version = m.group(2);
                String known = config.versions().get(version);
                if (!config.versions().isEmpty() && (known == null || (m.group(1) != null && !m.group(1).equals(known)))) {
                    throw new EmulatorHttp.Refused(422, problem(422, "Invalid version or not permitted",
                            "The specified version does not exist (or perhaps you don't have permission to use it?)"));
                }
                model = m.group(1) != null ? m.group(1) : known != null ? known : "kiln-sandbox/unlisted";
            } else if (MODEL.matcher(v).matches()) {
                model = v;
                version = "hidden";
            } else {
                throw new EmulatorHttp.Refused(422, problem(422, "Invalid version or not permitted",
                        "The specified version does not exist (or perhaps you don't have permission to use it?)"));
            }
        }
        JsonNode in = body.get("input");
        if (!(in instanceof ObjectNode input)) throw invalid("input is required and must be an object");
        String webhook = body.path("webhook").asString(null);
        if (webhook != null) {
            try {
                URI u = URI.create(webhook);
                if (u.getHost() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) throw new IllegalArgumentException();
            } catch (IllegalArgumentException e) {
                throw invalid("webhook must be an HTTPS URL");
            }
        }
        List<String> events = new ArrayList<>();
        JsonNode f = body.get("webhook_events_filter");
        if (f == null || f.isNull()) {
            events.addAll(List.of("start", "output", "logs", "completed"));
        } else {
            if (!f.isArray()) throw invalid("webhook_events_filter must be an array");
            for (JsonNode e : f) {
                if (!EVENTS.contains(e.asString(""))) throw invalid("webhook_events_filter: " + e + " is not one of start, output, logs, completed");
                events.add(e.asString());
            }
        }
        ReplicateModels.Schema schema = models.find(model, version.equals("hidden") ? null : version);
        String runtimeFailure = null;
        if (schema != null) {
            List<String> problems = ReplicateModels.problems(schema, input);
            if (!problems.isEmpty()) {
                throw new EmulatorHttp.Refused(422, problem(422, "Input validation failed", "- " + String.join("\n- ", problems) + "\n"));
            }
            runtimeFailure = ReplicateModels.runtimeFailure(schema, input);
        }
        Inputs inputs = inputs(input);
        HostedJob.Spec spec = spec(input, inputs);
        String failure = inputs.failure != null ? inputs.failure : runtimeFailure;
        HostedJob job = createJob(model, version, input, spec, webhook, events, failure, prefer);

        if (faults.takeSubmitDropped()) throw new EmulatorHttp.Drop();
        if (faults.takeSubmitMalformed()) {
            send(ex, 201, "application/json", ("{\"id\":\"" + job.id + "\",\"model\":").getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        Duration late = faults.takeSubmitDelay();
        if (late != null) Thread.sleep(late);
        if (waitSeconds > 0) {
            long until = job.nanosUntilReady();
            long cap = Duration.ofSeconds(waitSeconds).toNanos();
            Thread.sleep(Duration.ofNanos(until < 0 ? cap : Math.min(until, cap)));
        }
        // Without a wait the answer is the prediction as created, however fast it runs.
        ObjectNode p = waitSeconds > 0 ? json(job) : asCreated(json(job));
        boolean done = waitSeconds > 0 && job.terminal();
        send(ex, waitSeconds > 0 && !done ? 202 : 201, "application/json", Json.MAPPER.writeValueAsBytes(p),
                Map.of("Location", p.path("urls").path("get").asString()));
    }

    /** Input files: data URIs are decoded, URLs fetched (as Replicate does); the bytes feed the picture. */
    private record Inputs(List<byte[]> files, String failure) {}

    private Inputs inputs(ObjectNode input) {
        List<byte[]> files = new ArrayList<>();
        String failure = null;
        List<Map.Entry<String, JsonNode>> values = new ArrayList<>();
        input.properties().forEach(values::add);
        for (int i = 0; i < values.size(); i++) {
            Map.Entry<String, JsonNode> e = values.get(i);
            JsonNode v = e.getValue();
            if (v.isArray()) {
                for (JsonNode x : v) values.add(Map.entry(e.getKey(), x));
                continue;
            }
            if (!v.isString()) continue;
            String s = v.asString();
            if (s.startsWith("data:")) {
                int comma = s.indexOf(',');
                if (comma < 0 || !s.substring(0, comma).endsWith(";base64")) throw invalid(e.getKey() + ": invalid data URI");
                try {
                    files.add(Base64.getDecoder().decode(s.substring(comma + 1)));
                } catch (IllegalArgumentException ex) {
                    throw invalid(e.getKey() + ": invalid data URI");
                }
            } else if (s.startsWith(apiUrl() + "/files/")) {
                // One of this emulator's own files (the Files API), read as Replicate reads its own.
                byte[] content = fileApi.content(s.substring((apiUrl() + "/files/").length()));
                if (content == null) failure = "Failed to download input file " + e.getKey() + ": the file does not exist or has expired";
                else files.add(content);
            } else if (s.startsWith("http://") || s.startsWith("https://")) {
                try {
                    HttpResponse<byte[]> r = fetcher.send(HttpRequest.newBuilder(URI.create(s)).timeout(Duration.ofSeconds(10)).GET().build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    if (r.statusCode() / 100 != 2) throw new IOException("HTTP " + r.statusCode());
                    files.add(r.body());
                } catch (IOException | IllegalArgumentException ex) {
                    failure = "Failed to download input file " + e.getKey() + ": " + ex.getMessage();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    failure = "interrupted";
                }
            }
        }
        return new Inputs(files, failure);
    }

    /** What to render: {@code prompt} and {@code seed}; size from width/height, aspect_ratio (+ megapixels), or the input image (× scale). */
    private HostedJob.Spec spec(ObjectNode in, Inputs inputs) {
        JsonNode pr = in.get("prompt");
        if (pr != null && !pr.isNull() && !pr.isString()) throw invalid("prompt: Invalid type. Expected: string");
        String prompt = pr != null && pr.isString() ? pr.asString() : "input " + HostedJob.digest(in.toString());
        long seed;
        JsonNode s = in.get("seed");
        if (s == null || s.isNull() || (s.isIntegralNumber() && s.asLong() < 0)) {
            synchronized (random) {
                seed = random.nextInt(Integer.MAX_VALUE);
            }
        } else if (s.isIntegralNumber()) {
            seed = s.asLong();
        } else {
            throw invalid("seed: Invalid type. Expected: integer");
        }
        int width = 1024, height = 1024;
        if (in.has("width") || in.has("height")) {
            width = integer(in, "width", MIN_SIDE, SandboxRenderer.MAX_SIDE, 1024);
            height = integer(in, "height", MIN_SIDE, SandboxRenderer.MAX_SIDE, 1024);
        } else if (in.hasNonNull("aspect_ratio") && !"match_input_image".equals(in.path("aspect_ratio").asString(""))) {
            Matcher m = RATIO.matcher(in.path("aspect_ratio").asString(""));
            if (!m.matches() || Integer.parseInt(m.group(1)) == 0 || Integer.parseInt(m.group(2)) == 0) {
                throw invalid("aspect_ratio must be like 16:9");
            }
            double mp = 1;
            JsonNode mpx = in.get("megapixels");
            if (mpx != null && !mpx.isNull()) {
                try {
                    mp = Double.parseDouble(mpx.asString());
                } catch (NumberFormatException e) {
                    throw invalid("megapixels must be a number");
                }
                if (!(mp > 0 && mp <= 4)) throw invalid("megapixels must be from 0 to 4");
            }
            double area = mp * 1024 * 1024, ratio = Double.parseDouble(m.group(1)) / Double.parseDouble(m.group(2));
            width = clampSide((int) Math.round(Math.sqrt(area * ratio) / 16) * 16);
            height = clampSide((int) Math.round(Math.sqrt(area / ratio) / 16) * 16);
        } else if (!inputs.files().isEmpty()) {
            try {
                var img = ImageIO.read(new ByteArrayInputStream(inputs.files().getFirst()));
                if (img != null) {
                    double scale = in.path("scale").isNumber() ? in.path("scale").asDouble() : 1;
                    if (scale <= 0) scale = 1;
                    width = clampSide((int) Math.round(img.getWidth() * scale));
                    height = clampSide((int) Math.round(img.getHeight() * scale));
                }
            } catch (IOException e) {
                // not an image the JDK reads: keep the default size
            }
        }
        if (!inputs.files().isEmpty()) {
            StringBuilder sb = new StringBuilder(prompt);
            for (byte[] f : inputs.files()) sb.append(" | ").append(HostedJob.digest(f));
            prompt = sb.toString();
        }
        String countField = in.has("num_outputs") ? "num_outputs" : in.has("num_images") ? "num_images" : null;
        int count = countField == null ? 1 : integer(in, countField, 1, 4, 1);
        String format = countField != null ? "webp" : "png";
        JsonNode of = in.get("output_format");
        if (of != null && !of.isNull()) {
            try {
                format = SandboxRenderer.normalize(of.asString(""));
            } catch (IllegalArgumentException e) {
                throw invalid("output_format must be one of webp, jpg, png");
            }
        }
        return new HostedJob.Spec(prompt, seed, width, height, count, format, countField != null);
    }

    private static int clampSide(int v) {
        return Math.max(MIN_SIDE, Math.min(SandboxRenderer.MAX_SIDE, v));
    }

    private static int integer(ObjectNode in, String field, int min, int max, int dflt) {
        JsonNode n = in.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < min || n.asInt() > max) {
            throw invalid(field + ": Must be an integer from " + min + " to " + max);
        }
        return n.asInt();
    }

    /** A copy of the input without its data URIs: fields holding one are left out, as are array elements. */
    static ObjectNode withoutDataUris(ObjectNode input) {
        ObjectNode out = Json.object();
        input.properties().forEach(e -> {
            JsonNode v = stripped(e.getValue());
            if (v != null) out.set(e.getKey(), v);
        });
        return out;
    }

    private static JsonNode stripped(JsonNode v) {
        if (v.isString() && v.asString().startsWith("data:")) return null;
        if (v.isArray()) {
            ArrayNode a = Json.object().arrayNode();
            for (JsonNode x : v) {
                JsonNode y = stripped(x);
                if (y != null) a.add(y);
            }
            return a;
        }
        if (v instanceof ObjectNode o) return withoutDataUris(o);
        return v.deepCopy();
    }

    private HostedJob createJob(String model, String version, ObjectNode input, HostedJob.Spec spec, String webhook,
                                List<String> events, String inputFailure, String prefer) {
        HostedJob.Failure failure = inputFailure != null ? new HostedJob.Failure(inputFailure, false) : faults.takeFailure();
        if (failure == null && config.failRate() > 0) {
            synchronized (random) {
                if (random.nextDouble() < config.failRate()) {
                    failure = random.nextBoolean()
                            ? new HostedJob.Failure("Prediction interrupted; please retry (code: PA)", true)
                            : new HostedJob.Failure("NSFW content detected. Try running it again, or try a different prompt.", false);
                }
            }
        }
        boolean never = faults.takeNeverComplete();
        // What the prediction shows as its input: Replicate does not store data URIs (its API reference,
        // predictions.create: "you don't need to use the file again (Replicate will not store it)").
        HostedJob j = new HostedJob(newId(), model, version, withoutDataUris(input), spec, webhook, config.latency().toNanos(),
                failure, never);
        jobs.put(j.id, j);
        filters.put(j.id, List.copyOf(events));
        order.addLast(j);
        if (count.incrementAndGet() > config.maxPredictions()) {
            HostedJob old = order.pollFirst();
            if (old != null) {
                jobs.remove(old.id);
                filters.remove(old.id);
                count.decrementAndGet();
            }
        }
        synchronized (submissions) {
            submissions.addLast(new Submission(j.id, model, version, input.deepCopy(), webhook, List.copyOf(events), prefer, j.createdAt));
            if (submissions.size() > config.maxPredictions()) submissions.removeFirst();
        }
        if (webhook != null) scheduleWebhooks(j, events);
        return j;
    }

    // ---- webhooks

    private void scheduleWebhooks(HostedJob j, List<String> events) {
        if (events.contains("start")) {
            webhooks.after(j.nanosUntilStart(), () -> {
                if (j.phase() == HostedJob.Phase.RUNNING) deliver(j, Json.MAPPER.writeValueAsBytes(json(j)), null);
            });
        }
        long ready = j.nanosUntilReady();
        if (ready < 0) return; // never finishes
        webhooks.after(ready, () -> {
            if (j.phase() == HostedJob.Phase.CANCELED) return; // the cancel sent its own
            completed(j);
        });
    }

    /** The {@code completed} event (always sent, whatever the filter), with the out-of-order fault. */
    private void completed(HostedJob j) {
        byte[] body = Json.MAPPER.writeValueAsBytes(json(j));
        byte[] stale = null;
        if (faults.takeWebhookReordered()) {
            // An older state of the same prediction, delivered after the final one.
            ObjectNode old = json(j);
            old.put("status", "processing");
            old.putNull("output");
            old.putNull("completed_at");
            old.remove("metrics");
            stale = Json.MAPPER.writeValueAsBytes(old);
        }
        deliver(j, body, stale);
    }

    private void deliver(HostedJob j, byte[] body, byte[] staleAfter) {
        if (faults.takeWebhookDropped()) return;
        boolean forged = faults.takeWebhookForged();
        int copies = faults.takeWebhookDuplicated() ? 2 : 1;
        String id = "msg_" + newId();
        for (int i = 0; i < copies; i++) webhooks.deliver(j.webhook, () -> sign(id, body, forged));
        if (staleAfter != null) {
            String staleId = "msg_" + newId();
            webhooks.deliver(j.webhook, () -> sign(staleId, staleAfter, false));
        }
    }

    private WebhookSender.Signed sign(String id, byte[] body, boolean forged) {
        String ts = Long.toString(Instant.now().getEpochSecond());
        String secret = forged ? Config.newSecret() : config.webhookSecret();
        Map<String, String> h = new LinkedHashMap<>();
        h.put("webhook-id", id);
        h.put("webhook-timestamp", ts);
        h.put("webhook-signature", "v1," + signature(secret, id, ts, body));
        return new WebhookSender.Signed(h, body);
    }

    /** base64(HMAC-SHA256(base64-decoded secret after whsec_, "{id}.{timestamp}.{body}")): the Standard Webhooks scheme. */
    static String signature(String secret, String id, String timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
            mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    // ---- read, cancel, list

    private void get(HttpExchange ex, String id) throws IOException {
        Duration retryAfter = faults.takePollRateLimit();
        if (retryAfter != null) {
            long s = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
            ObjectNode p = problem(429, "Request was throttled.", "Request was throttled. Your rate limit resets in ~" + s + "s.");
            p.put("retry_after", s);
            send(ex, 429, "application/problem+json", Json.MAPPER.writeValueAsBytes(p), Map.of("Retry-After", Long.toString(s)));
            return;
        }
        if (faults.takePollServerError()) {
            answer(ex, 502, problem(502, "Bad Gateway", "upstream error"));
            return;
        }
        HostedJob j = jobs.get(id);
        if (j == null) {
            answer(ex, 404, problem(404, "Not found", "Not found."));
            return;
        }
        if (faults.takePollMalformed()) {
            send(ex, 200, "application/json", "{\"id\":\"".concat(id).concat("\",\"status\":").getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        answer(ex, 200, json(j));
    }

    private void cancel(HttpExchange ex, String id) throws IOException {
        HostedJob j = jobs.get(id);
        if (j == null) {
            answer(ex, 404, problem(404, "Not found", "Not found."));
            return;
        }
        if (j.cancel() && j.webhook != null) {
            byte[] body = Json.MAPPER.writeValueAsBytes(json(j));
            webhooks.after(0, () -> deliver(j, body, null));
        }
        answer(ex, 200, json(j));
    }

    private void list(HttpExchange ex) throws IOException {
        Instant after = instant(EmulatorHttp.queryParam(ex, "created_after"), "created_after");
        Instant before = instant(EmulatorHttp.queryParam(ex, "created_before"), "created_before");
        String cursor = EmulatorHttp.queryParam(ex, "cursor");
        int skip;
        try {
            skip = cursor == null ? 0 : Integer.parseInt(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new EmulatorHttp.Refused(400, problem(400, "Bad Request", "invalid cursor"));
        }
        ArrayNode results = Json.object().arrayNode();
        int seen = 0;
        boolean more = false;
        for (Iterator<HostedJob> it = order.descendingIterator(); it.hasNext(); ) {
            HostedJob j = it.next();
            if (after != null && j.createdAt.isBefore(after)) continue;
            if (before != null && !j.createdAt.isBefore(before)) continue;
            if (seen++ < skip) continue;
            if (results.size() == 100) {
                more = true;
                break;
            }
            results.add(json(j));
        }
        ObjectNode page = Json.object();
        if (more) {
            StringBuilder next = new StringBuilder(apiUrl() + "/predictions?cursor="
                    + Base64.getUrlEncoder().withoutPadding().encodeToString(Integer.toString(skip + 100).getBytes(StandardCharsets.UTF_8)));
            if (after != null) next.append("&created_after=").append(URLEncoder.encode(after.toString(), StandardCharsets.UTF_8));
            if (before != null) next.append("&created_before=").append(URLEncoder.encode(before.toString(), StandardCharsets.UTF_8));
            page.put("next", next.toString());
        } else {
            page.putNull("next");
        }
        page.putNull("previous");
        page.set("results", results);
        answer(ex, 200, page);
    }

    private static Instant instant(String s, String field) {
        if (s == null) return null;
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            throw new EmulatorHttp.Refused(400, problem(400, "Bad Request", field + " must be an ISO 8601 date-time"));
        }
    }

    // ---- the prediction object and its files

    private static ObjectNode asCreated(ObjectNode p) {
        p.put("status", "starting");
        p.putNull("output");
        p.putNull("error");
        p.put("logs", "");
        p.remove("started_at");
        p.remove("completed_at");
        p.remove("metrics");
        return p;
    }

    private static String status(HostedJob j) {
        return switch (j.phase()) {
            case QUEUED -> "starting";
            case RUNNING -> "processing";
            case SUCCEEDED -> "succeeded";
            case FAILED -> "failed";
            case CANCELED -> "canceled";
        };
    }

    private boolean removed(HostedJob j) {
        Instant done = j.completedAt();
        return done != null && Instant.now().isAfter(done.plus(config.outputTtl()));
    }

    ObjectNode json(HostedJob j) {
        String status = status(j);
        boolean removed = removed(j);
        ObjectNode o = Json.object();
        o.put("id", j.id);
        o.put("model", j.model);
        o.put("version", j.version);
        if (removed) o.putObject("input");
        else o.set("input", j.input);
        o.put("logs", removed ? "" : logs(j, status));
        if (status.equals("succeeded") && !removed) {
            if (j.spec.list()) {
                ArrayNode out = o.putArray("output");
                for (int i = 0; i < j.spec.count(); i++) out.add(fileUrl(j, i));
            } else {
                o.put("output", fileUrl(j, 0));
            }
        } else {
            o.putNull("output");
        }
        o.put("data_removed", removed);
        if (status.equals("failed")) o.put("error", j.failure.message());
        else o.putNull("error");
        o.put("status", status);
        o.put("source", "api");
        o.put("created_at", j.createdAt.toString());
        Instant started = j.startedAt();
        if (started != null) o.put("started_at", started.toString());
        Instant completed = j.completedAt();
        if (completed != null) o.put("completed_at", completed.toString());
        if (status.equals("succeeded")) {
            o.putObject("metrics").put("predict_time", j.predictSeconds())
                    .put("total_time", Duration.between(j.createdAt, completed).toMillis() / 1000.0);
        }
        ObjectNode urls = o.putObject("urls");
        urls.put("get", apiUrl() + "/predictions/" + j.id);
        urls.put("cancel", apiUrl() + "/predictions/" + j.id + "/cancel");
        urls.put("web", baseUrl + "/p/" + j.id);
        return o;
    }

    private static String logs(HostedJob j, String status) {
        if (status.equals("starting")) return "";
        StringBuilder sb = new StringBuilder("Using seed: ").append(j.spec.seed()).append('\n');
        int steps = 4;
        int done = status.equals("processing") ? (int) Math.min(steps - 1, Math.max(0, steps * progressOf(j))) : steps;
        for (int i = 0; i <= done; i++) {
            int pct = i * 100 / steps;
            sb.append(String.format(" %3d%%|%-10s| %d/%d%n", pct, "█".repeat(pct / 10), i, steps));
        }
        return sb.toString();
    }

    private static double progressOf(HostedJob j) {
        Instant started = j.startedAt();
        if (started == null) return 0;
        double total = j.predictSeconds();
        return total <= 0 ? 0 : Duration.between(started, Instant.now()).toMillis() / 1000.0 / total;
    }

    private String fileUrl(HostedJob j, int i) {
        return baseUrl + "/files/" + j.id + "/" + j.outputName(i);
    }

    private void file(HttpExchange ex, String rest) throws IOException {
        if (faults.takeOutputExpired()) {
            send(ex, 404, "text/plain", "Not Found".getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        int slash = rest.indexOf('/');
        HostedJob j = slash < 0 ? null : jobs.get(rest.substring(0, slash));
        int index = j == null ? -1 : j.outputIndex(rest.substring(slash + 1));
        if (index < 0 || j.phase() != HostedJob.Phase.SUCCEEDED || removed(j)) {
            send(ex, 404, "text/plain", "Not Found".getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        send(ex, 200, SandboxRenderer.mimeType(j.spec.format()), render(j, index), Map.of("Cache-Control", "public, max-age=3600"));
    }

    private byte[] render(HostedJob j, int i) {
        String key = j.id + "/" + i;
        BlobCache.Blob b = outputs.get(key);
        if (b != null) return b.bytes();
        HostedJob.Spec s = j.spec;
        byte[] bytes = SandboxRenderer.render(s.prompt(), s.seed() + i, s.width(), s.height(), s.format());
        outputs.put(key, new BlobCache.Blob(bytes, SandboxRenderer.mimeType(s.format()), j.outputName(i)));
        return bytes;
    }
}

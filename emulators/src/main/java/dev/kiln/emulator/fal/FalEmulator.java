package dev.kiln.emulator.fal;

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
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A local fal.ai queue API (docs/PROVIDERS.md, "fal") on the JDK HTTP server, bound to
 * 127.0.0.1. Point a fal account's base URL at {@link #baseUrl()} and its {@code jwks_url} at
 * {@link #jwksUrl()}.
 *
 * <ul>
 *   <li>{@code POST /{owner}/{app}[/{path}]} (any model, optional {@code ?fal_webhook=}) →
 *       {@code {request_id, status: IN_QUEUE, queue_position, status_url, response_url, cancel_url}};
 *       the three URLs use {@code owner/app} without the subpath, as fal's do
 *   <li>{@code GET /{owner}/{app}/requests/{id}/status[?logs=1]}: {@code IN_QUEUE} (with
 *       {@code queue_position}) → {@code IN_PROGRESS} (with logs) → {@code COMPLETED}
 *   <li>{@code GET /{owner}/{app}/requests/{id}}: the output {@code {images: [{url, width, height,
 *       content_type}], seed, timings}}, or the error (422 / 500 {@code {detail}}) of a failed request
 *   <li>{@code PUT /{owner}/{app}/requests/{id}/cancel}: 202 {@code CANCELLATION_REQUESTED}, 400
 *       {@code ALREADY_COMPLETED}, 404 {@code NOT_FOUND}
 *   <li>{@code GET /.well-known/jwks.json}: its Ed25519 webhook key; {@code GET /files/{id}/{name}}:
 *       the "fal.media" CDN, no auth, files expiring after {@link Config#outputTtl()}
 * </ul>
 * Webhooks: {@code {request_id, gateway_request_id, status: OK|ERROR, payload, error?}} with
 * {@code X-Fal-Webhook-*} headers, signed with Ed25519 over
 * {@code request_id\nuser_id\ntimestamp\nhex(sha256(body))}.
 */
public final class FalEmulator implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FalEmulator.class.getName());
    private static final int MAX_JSON = 32 * 1024 * 1024;
    private static final int MIN_SIDE = 16;
    /** fal's image_size presets. */
    private static final Map<String, int[]> SIZES = Map.of(
            "square_hd", new int[] {1024, 1024}, "square", new int[] {512, 512},
            "portrait_4_3", new int[] {768, 1024}, "portrait_16_9", new int[] {576, 1024},
            "landscape_4_3", new int[] {1024, 768}, "landscape_16_9", new int[] {1024, 576});
    /**
     * The input fields of the models whose schema the emulator knows, from each model's API page
     * (fal.ai/models/fal-ai/flux/schnell/api): anything else in the input is refused, so a binding
     * that sends a field the model does not have fails here instead of being silently dropped.
     */
    private static final Map<String, java.util.Set<String>> SCHEMAS = Map.of(
            "fal-ai/flux/schnell", java.util.Set.of("prompt", "image_size", "num_inference_steps", "seed", "sync_mode", "num_images",
                    "enable_safety_checker", "output_format", "acceleration"));
    /** Each known model's range of {@code num_inference_steps}. */
    private static final Map<String, int[]> STEPS = Map.of("fal-ai/flux/schnell", new int[] {1, 12});
    /** How late an out-of-order webhook arrives. */
    private static final Duration REORDER_DELAY = Duration.ofMillis(1200);

    /**
     * How the emulator behaves.
     *
     * @param port TCP port on 127.0.0.1, 0 for any free one
     * @param apiKey the key every queue call must present as {@code Key <key>}, or null for none
     * @param latency how long a request takes from submit to its result (a quarter of it {@code IN_QUEUE})
     * @param failRate share of requests that fail
     * @param userId the user id in webhook signatures
     * @param outputTtl how long output files can be downloaded
     * @param maxRequests requests remembered; older ones are forgotten (404)
     * @param randomSeed seeds fail-rate draws and random image seeds
     * @param webhookAttempts deliveries tried per webhook (fal: 10 over 2 hours)
     * @param webhookRetryDelay pause after the first failed delivery, growing linearly
     * @param minimalSubmitAnswers whether a submit is answered with only {@code request_id} (and
     *     {@code gateway_request_id} with a webhook), the shape fal's webhook docs show, instead of
     *     the queue answer with its URLs
     */
    public record Config(int port, String apiKey, Duration latency, double failRate, String userId, Duration outputTtl,
                         int maxRequests, long randomSeed, int webhookAttempts, Duration webhookRetryDelay, boolean minimalSubmitAnswers) {

        public Config {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port: " + port);
            if (latency == null || latency.isNegative()) throw new IllegalArgumentException("latency: " + latency);
            if (!(failRate >= 0 && failRate <= 1)) throw new IllegalArgumentException("failRate must be 0..1: " + failRate);
            if (userId == null || userId.isBlank()) throw new IllegalArgumentException("userId");
            if (outputTtl == null || outputTtl.isNegative() || outputTtl.isZero()) throw new IllegalArgumentException("outputTtl");
            if (maxRequests < 1 || webhookAttempts < 1) throw new IllegalArgumentException("maxRequests and webhookAttempts must be positive");
            if (webhookRetryDelay == null || webhookRetryDelay.isNegative()) throw new IllegalArgumentException("webhookRetryDelay");
        }

        /** Any free port, no key, instant requests, no failures, files kept 7 days. */
        public static Config defaults() {
            return new Config(0, null, Duration.ZERO, 0, "kiln-sandbox-user", Duration.ofDays(7), 50_000, 1, 3, Duration.ofMillis(500), false);
        }

        public Config withPort(int p) {
            return new Config(p, apiKey, latency, failRate, userId, outputTtl, maxRequests, randomSeed, webhookAttempts, webhookRetryDelay, minimalSubmitAnswers);
        }

        public Config withApiKey(String k) {
            return new Config(port, k, latency, failRate, userId, outputTtl, maxRequests, randomSeed, webhookAttempts, webhookRetryDelay, minimalSubmitAnswers);
        }

        public Config withLatency(Duration d) {
            return new Config(port, apiKey, d, failRate, userId, outputTtl, maxRequests, randomSeed, webhookAttempts, webhookRetryDelay, minimalSubmitAnswers);
        }

        public Config withFailRate(double r) {
            return new Config(port, apiKey, latency, r, userId, outputTtl, maxRequests, randomSeed, webhookAttempts, webhookRetryDelay, minimalSubmitAnswers);
        }

        public Config withUserId(String u) {
            return new Config(port, apiKey, latency, failRate, u, outputTtl, maxRequests, randomSeed, webhookAttempts, webhookRetryDelay, minimalSubmitAnswers);
        }

        public Config withOutputTtl(Duration d) {
            return new Config(port, apiKey, latency, failRate, userId, d, maxRequests, randomSeed, webhookAttempts, webhookRetryDelay, minimalSubmitAnswers);
        }

        public Config withRandomSeed(long s) {
            return new Config(port, apiKey, latency, failRate, userId, outputTtl, maxRequests, s, webhookAttempts, webhookRetryDelay, minimalSubmitAnswers);
        }

        public Config withMinimalSubmitAnswers(boolean minimal) {
            return new Config(port, apiKey, latency, failRate, userId, outputTtl, maxRequests, randomSeed, webhookAttempts, webhookRetryDelay, minimal);
        }

        public Config withWebhookRetries(int attempts, Duration delay) {
            return new Config(port, apiKey, latency, failRate, userId, outputTtl, maxRequests, randomSeed, attempts, delay, minimalSubmitAnswers);
        }
    }


    /** One accepted submit, in arrival order. */
    public record Submission(String id, String model, JsonNode input, String webhook, Instant at) {}

    /** A published signing key. */
    private record SigningKey(String kid, KeyPair pair) {}

    private final Config config;
    private final HttpServer server;
    private final ExecutorService executor;
    private final String baseUrl;
    private final HostedFaults faults = new HostedFaults();
    private final WebhookSender webhooks;
    private final Map<String, HostedJob> jobs = new ConcurrentHashMap<>();
    private final Map<String, String> apps = new ConcurrentHashMap<>();
    private final ConcurrentLinkedDeque<HostedJob> order = new ConcurrentLinkedDeque<>();
    private final AtomicInteger count = new AtomicInteger();
    private final ArrayDeque<Submission> submissions = new ArrayDeque<>();
    private final BlobCache outputs = new BlobCache(64L * 1024 * 1024);
    private final SplittableRandom random;
    private final HttpClient fetcher;
    private final List<SigningKey> keys = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicReference<int[]> transientAnswers = new java.util.concurrent.atomic.AtomicReference<>();

    private FalEmulator(Config config) throws IOException {
        this.config = config;
        this.random = new SplittableRandom(config.randomSeed());
        this.webhooks = new WebhookSender("fal-emulator", config.webhookAttempts(), config.webhookRetryDelay());
        keys.add(newKey());
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        this.server = EmulatorHttp.loopbackServer(config.port(), executor, this::handle);
        this.baseUrl = EmulatorHttp.baseUrl(server);
        this.fetcher = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NORMAL).executor(executor).build();
    }

    /** Starts an emulator; close it when done. */
    public static FalEmulator start(Config config) {
        try {
            FalEmulator e = new FalEmulator(config);
            e.server.start();
            LOG.log(System.Logger.Level.DEBUG, "fal emulator listening on {0}", e.baseUrl);
            return e;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the fal emulator on port " + config.port(), e);
        }
    }

    /** The queue host, e.g. {@code http://127.0.0.1:43121}: a fal account's base URL. */
    public String baseUrl() {
        return baseUrl;
    }

    /** Same as {@link #baseUrl()}: fal's queue API has no version prefix. */
    public String apiUrl() {
        return baseUrl;
    }

    /** Where the webhook keys are published: a fal account's {@code jwks_url}. */
    public String jwksUrl() {
        return baseUrl + "/.well-known/jwks.json";
    }

    public Config config() {
        return config;
    }

    public HostedFaults faults() {
        return faults;
    }

    /** Replaces the signing key: the JWKS then publishes only the new one (as after a rotation). */
    public void rotateWebhookKey() {
        SigningKey k = newKey();
        keys.add(0, k);
        keys.removeIf(x -> x != k);
    }

    /**
     * The next {@code n} queue calls (submit, status, result) are answered with {@code status}
     * (fal's queue answers 408 and 409 that its clients retry) before anything is accepted.
     */
    public FalEmulator answerTransiently(int status, int n) {
        transientAnswers.set(n > 0 ? new int[] {status, n} : null);
        return this;
    }

    private boolean takeTransient(HttpExchange ex) throws IOException {
        int[] t = transientAnswers.getAndUpdate(a -> a == null || a[1] <= 1 ? null : new int[] {a[0], a[1] - 1});
        if (t == null) return false;
        answer(ex, t[0], detail(t[0] == 408 ? "Request timeout" : "Conflict: please retry"));
        return true;
    }

    public List<Submission> submissions() {
        synchronized (submissions) {
            return List.copyOf(submissions);
        }
    }

    /** A request's state: {@code IN_QUEUE}, {@code IN_PROGRESS}, {@code COMPLETED}, or {@code CANCELED} (cancelled, as only the emulator knows), or null. */
    public String status(String requestId) {
        HostedJob j = jobs.get(requestId);
        if (j == null) return null;
        return j.phase() == HostedJob.Phase.CANCELED ? "CANCELED" : wireStatus(j);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        server.stop(0);
        webhooks.close();
        executor.shutdownNow();
        outputs.clear();
    }

    private static SigningKey newKey() {
        try {
            return new SigningKey(UUID.randomUUID().toString(), KeyPairGenerator.getInstance("Ed25519").generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every JDK since 15", e);
        }
    }

    // ---- plumbing

    private static ObjectNode detail(String message) {
        return Json.object().put("detail", message);
    }

    /** A FastAPI validation error, as fal's apps answer: {@code {detail: [{loc, msg, type}]}}. */
    private static EmulatorHttp.Refused invalid(String field, String msg, String type) {
        ObjectNode o = Json.object();
        ObjectNode e = o.putArray("detail").addObject();
        e.putArray("loc").add("body").add(field);
        e.put("msg", msg);
        e.put("type", type);
        return new EmulatorHttp.Refused(422, o);
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
            LOG.log(System.Logger.Level.DEBUG, "fal emulator request failed", e);
            EmulatorHttp.answerQuietly(ex, 500, detail("Internal server error"));
        } finally {
            ex.close();
        }
    }

    private void route(HttpExchange ex) throws IOException, InterruptedException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        if (path.equals("/.well-known/jwks.json") && method.equals("GET")) {
            answer(ex, 200, jwks());
            return;
        }
        if (path.startsWith("/files/") && method.equals("GET")) {
            file(ex, path.substring("/files/".length()));
            return;
        }
        if (!authorized(ex)) {
            answer(ex, 401, detail("Unauthorized: provide your key as 'Authorization: Key <key>'"));
            return;
        }
        List<String> seg = Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toList();
        if (takeTransient(ex)) return;
        if (seg.size() >= 4 && seg.get(2).equals("requests")) {
            String app = seg.get(0) + "/" + seg.get(1), id = seg.get(3);
            if (seg.size() == 5 && seg.get(4).equals("status") && method.equals("GET")) {
                status(ex, app, id);
            } else if (seg.size() == 4 && method.equals("GET")) {
                result(ex, app, id);
            } else if (seg.size() == 5 && seg.get(4).equals("cancel") && method.equals("PUT")) {
                cancel(ex, app, id);
            } else {
                answer(ex, 405, detail("Method Not Allowed"));
            }
        } else if (seg.size() >= 2 && method.equals("POST")) {
            submit(ex, String.join("/", seg));
        } else {
            answer(ex, 404, detail("Not Found"));
        }
    }

    private boolean authorized(HttpExchange ex) {
        if (config.apiKey() == null) return true;
        String h = ex.getRequestHeaders().getFirst("Authorization");
        return h != null && MessageDigest.isEqual(h.getBytes(StandardCharsets.UTF_8), ("Key " + config.apiKey()).getBytes(StandardCharsets.UTF_8));
    }

    private ObjectNode jwks() {
        ObjectNode o = Json.object();
        ArrayNode arr = o.putArray("keys");
        for (SigningKey k : keys) {
            byte[] spki = k.pair().getPublic().getEncoded();
            byte[] raw = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
            arr.addObject().put("kty", "OKP").put("crv", "Ed25519").put("kid", k.kid()).put("use", "sig").put("alg", "EdDSA")
                    .put("x", Base64.getUrlEncoder().withoutPadding().encodeToString(raw));
        }
        return o;
    }

    // ---- submit

    private void submit(HttpExchange ex, String model) throws IOException, InterruptedException {
        byte[] raw = EmulatorHttp.readBody(ex, MAX_JSON, detail("Request body too large"));
        Duration retryAfter = faults.takeSubmitRateLimit();
        if (retryAfter != null) {
            long s = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
            send(ex, 429, "application/json", Json.MAPPER.writeValueAsBytes(detail("Rate limit exceeded")), Map.of("Retry-After", Long.toString(s)));
            return;
        }
        if (faults.takeSubmitServerError()) {
            answer(ex, 500, detail("Internal server error"));
            return;
        }
        ObjectNode input = EmulatorHttp.jsonObject(raw);
        if (input == null) throw invalid("__root__", "value is not a valid dict", "type_error.dict");
        String webhook = EmulatorHttp.queryParam(ex, "fal_webhook");
        if (webhook != null) {
            try {
                URI u = URI.create(webhook);
                if (u.getHost() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) throw new IllegalArgumentException();
            } catch (IllegalArgumentException e) {
                throw new EmulatorHttp.Refused(400, detail("fal_webhook must be an http(s) URL"));
            }
        }
        checkSchema(model, input);
        List<byte[]> files = new ArrayList<>();
        String inputFailure = fetchInputs(input, files);
        HostedJob.Spec spec = spec(input, files);
        String app = queueApp(model); // queue URLs drop the subpath
        HostedJob j = create(model, app, input.deepCopy(), spec, webhook, inputFailure);

        if (faults.takeSubmitDropped()) throw new EmulatorHttp.Drop();
        if (faults.takeSubmitMalformed()) {
            send(ex, 200, "application/json", ("{\"request_id\":\"" + j.id + "\",\"status\":\"IN_QU").getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        Duration late = faults.takeSubmitDelay();
        if (late != null) Thread.sleep(late);
        ObjectNode o;
        if (config.minimalSubmitAnswers()) {
            o = Json.object().put("request_id", j.id);
        } else {
            o = urls(j, app);
            o.put("status", "IN_QUEUE");
            o.put("queue_position", queuePosition(j));
        }
        if (webhook != null) o.put("gateway_request_id", j.id);
        answer(ex, 200, o);
    }

    /** Refuses fields a known model does not have, and its out-of-range steps, as FastAPI answers them. */
    private static void checkSchema(String model, ObjectNode input) {
        java.util.Set<String> fields = SCHEMAS.get(model);
        if (fields == null) return;
        for (String f : input.propertyNames()) {
            if (!fields.contains(f)) throw invalid(f, "extra fields not permitted", "value_error.extra");
        }
        int[] steps = STEPS.get(model);
        JsonNode n = input.get("num_inference_steps");
        if (steps != null && n != null && !n.isNull() && (!n.isIntegralNumber() || n.asInt() < steps[0] || n.asInt() > steps[1])) {
            throw invalid("num_inference_steps", "ensure this value is between " + steps[0] + " and " + steps[1], "value_error.number");
        }
        JsonNode a = input.get("acceleration");
        if (a != null && !a.isNull() && !java.util.Set.of("none", "regular", "high").contains(a.asString(""))) {
            throw invalid("acceleration", "value is not a valid enumeration member; permitted: 'none', 'regular', 'high'", "type_error.enum");
        }
    }

    /** Input files ({@code image_url}, {@code image_urls}, any data URI or URL string): fetched as fal does. */
    private String fetchInputs(ObjectNode input, List<byte[]> files) {
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
                try {
                    if (comma < 0) throw new IllegalArgumentException();
                    files.add(Base64.getDecoder().decode(s.substring(comma + 1)));
                } catch (IllegalArgumentException ex) {
                    throw invalid(e.getKey(), "invalid data URI", "value_error");
                }
            } else if (s.startsWith("http://") || s.startsWith("https://")) {
                try {
                    HttpResponse<byte[]> r = fetcher.send(HttpRequest.newBuilder(URI.create(s)).timeout(Duration.ofSeconds(10)).GET().build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    if (r.statusCode() / 100 != 2) throw new IOException("HTTP " + r.statusCode());
                    files.add(r.body());
                } catch (IOException | IllegalArgumentException ex) {
                    return "Failed to download the file from " + e.getKey() + ": " + ex.getMessage();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    return "interrupted";
                }
            }
        }
        return null;
    }

    private HostedJob.Spec spec(ObjectNode in, List<byte[]> files) {
        JsonNode pr = in.get("prompt");
        if (pr != null && !pr.isNull() && !pr.isString()) throw invalid("prompt", "str type expected", "type_error.str");
        if ((pr == null || pr.isNull() || pr.asString().isBlank()) && files.isEmpty()) {
            throw invalid("prompt", "field required", "value_error.missing");
        }
        String prompt = pr != null && pr.isString() ? pr.asString() : "input";
        for (byte[] f : files) prompt += " | " + HostedJob.digest(f);
        long seed;
        JsonNode s = in.get("seed");
        if (s == null || s.isNull() || (s.isIntegralNumber() && s.asLong() < 0)) {
            synchronized (random) {
                seed = random.nextInt(Integer.MAX_VALUE);
            }
        } else if (s.isIntegralNumber()) {
            seed = s.asLong();
        } else {
            throw invalid("seed", "value is not a valid integer", "type_error.integer");
        }
        int width = 1024, height = 768;
        JsonNode size = in.get("image_size");
        if (size != null && !size.isNull()) {
            if (size.isString()) {
                int[] wh = SIZES.get(size.asString());
                if (wh == null) throw invalid("image_size", "value is not a valid enumeration member; permitted: " + String.join(", ", SIZES.keySet()), "type_error.enum");
                width = wh[0];
                height = wh[1];
            } else if (size.isObject()) {
                width = side(size, "width");
                height = side(size, "height");
            } else {
                throw invalid("image_size", "value is not a valid image size", "type_error");
            }
        } else if (in.has("width") || in.has("height")) {
            width = side(in, "width");
            height = side(in, "height");
        } else if (!files.isEmpty()) {
            try {
                var img = ImageIO.read(new ByteArrayInputStream(files.getFirst()));
                if (img != null) {
                    width = Math.max(MIN_SIDE, Math.min(SandboxRenderer.MAX_SIDE, img.getWidth()));
                    height = Math.max(MIN_SIDE, Math.min(SandboxRenderer.MAX_SIDE, img.getHeight()));
                }
            } catch (IOException e) {
                // keep the default
            }
        }
        int count = 1;
        JsonNode n = in.get("num_images");
        if (n != null && !n.isNull()) {
            if (!n.isIntegralNumber() || n.asInt() < 1 || n.asInt() > 4) throw invalid("num_images", "ensure this value is between 1 and 4", "value_error.number");
            count = n.asInt();
        }
        String format = "jpeg";
        JsonNode f = in.get("output_format");
        if (f != null && !f.isNull()) {
            // fal's image models take exactly "jpeg" or "png" ("jpg" and "webp" are refused).
            if (!f.isString() || !(f.asString().equals("jpeg") || f.asString().equals("png"))) {
                throw invalid("output_format", "value is not a valid enumeration member; permitted: 'jpeg', 'png'", "type_error.enum");
            }
            format = f.asString();
        }
        return new HostedJob.Spec(prompt, seed, width, height, count, format, true);
    }

    private static int side(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.isIntegralNumber() || v.asInt() < MIN_SIDE || v.asInt() > SandboxRenderer.MAX_SIDE) {
            throw invalid(field, "ensure this value is an integer from " + MIN_SIDE + " to " + SandboxRenderer.MAX_SIDE, "value_error.number");
        }
        return v.asInt();
    }

    private HostedJob create(String model, String app, ObjectNode input, HostedJob.Spec spec, String webhook, String inputFailure) {
        HostedJob.Failure failure = inputFailure != null ? new HostedJob.Failure(inputFailure, false) : faults.takeFailure();
        if (failure == null && config.failRate() > 0) {
            synchronized (random) {
                if (random.nextDouble() < config.failRate()) {
                    failure = random.nextBoolean()
                            ? new HostedJob.Failure("Internal error during inference", true)
                            : new HostedJob.Failure("The content was flagged by the safety checker", false);
                }
            }
        }
        boolean never = faults.takeNeverComplete();
        HostedJob j = new HostedJob(UUID.randomUUID().toString(), model, null, input, spec, webhook, config.latency().toNanos(), failure, never);
        jobs.put(j.id, j);
        apps.put(j.id, app);
        order.addLast(j);
        if (count.incrementAndGet() > config.maxRequests()) {
            HostedJob old = order.pollFirst();
            if (old != null) {
                jobs.remove(old.id);
                apps.remove(old.id);
                count.decrementAndGet();
            }
        }
        synchronized (submissions) {
            submissions.addLast(new Submission(j.id, model, input.deepCopy(), webhook, j.createdAt));
            if (submissions.size() > config.maxRequests()) submissions.removeFirst();
        }
        if (webhook != null) {
            long ready = j.nanosUntilReady();
            if (ready >= 0) webhooks.after(ready, () -> {
                if (j.phase() != HostedJob.Phase.CANCELED) completed(j);
            });
        }
        return j;
    }

    /** {@code owner/alias} of a model id, {@code workflows/} and {@code comfy/} namespaces kept (fal-js {@code parseEndpointId}). */
    static String queueApp(String model) {
        String[] p = model.split("/");
        boolean namespaced = p.length >= 3 && (p[0].equals("workflows") || p[0].equals("comfy"));
        return namespaced ? p[0] + "/" + p[1] + "/" + p[2] : p[0] + "/" + p[1];
    }

    private ObjectNode urls(HostedJob j, String app) {
        String base = baseUrl + "/" + app + "/requests/" + j.id;
        ObjectNode o = Json.object();
        o.put("request_id", j.id);
        o.put("response_url", base);
        o.put("status_url", base + "/status");
        o.put("cancel_url", base + "/cancel");
        return o;
    }

    // ---- status, result, cancel

    private HostedJob find(String app, String id) {
        HostedJob j = jobs.get(id);
        return j != null && app.equals(apps.get(id)) ? j : null;
    }

    private static String wireStatus(HostedJob j) {
        return switch (j.phase()) {
            case QUEUED -> "IN_QUEUE";
            case RUNNING -> "IN_PROGRESS";
            default -> "COMPLETED";
        };
    }

    private int queuePosition(HostedJob j) {
        int pos = 0;
        for (Iterator<HostedJob> it = order.descendingIterator(); it.hasNext(); ) {
            HostedJob o = it.next();
            if (o.createdAt.isBefore(j.createdAt.minus(config.latency()).minusSeconds(1))) break;
            if (o.createdNanos - j.createdNanos < 0 && o.phase() == HostedJob.Phase.QUEUED) pos++;
        }
        return pos;
    }

    private void status(HttpExchange ex, String app, String id) throws IOException {
        Duration retryAfter = faults.takePollRateLimit();
        if (retryAfter != null) {
            long s = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
            send(ex, 429, "application/json", Json.MAPPER.writeValueAsBytes(detail("Rate limit exceeded")), Map.of("Retry-After", Long.toString(s)));
            return;
        }
        if (faults.takePollServerError()) {
            answer(ex, 503, detail("Service temporarily unavailable"));
            return;
        }
        HostedJob j = find(app, id);
        if (j == null) {
            answer(ex, 404, detail("Request not found"));
            return;
        }
        if (faults.takePollMalformed()) {
            send(ex, 200, "application/json", "<html><body>upstream hiccup</body></html>".getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        String status = wireStatus(j);
        ObjectNode o = urls(j, app);
        o.put("status", status);
        if (status.equals("IN_QUEUE")) {
            o.put("queue_position", queuePosition(j));
        } else if ("1".equals(EmulatorHttp.queryParam(ex, "logs"))) {
            ArrayNode logs = o.putArray("logs");
            int steps = 4;
            int done = status.equals("COMPLETED") ? steps : (int) Math.min(steps - 1, steps * progress(j));
            Instant started = j.startedAt() == null ? j.createdAt : j.startedAt();
            for (int i = 1; i <= done; i++) {
                logs.addObject().put("message", "step " + i + "/" + steps + " (" + i * 100 / steps + "%)").put("level", "INFO")
                        .put("source", "USER").put("timestamp", started.toString());
            }
        } else {
            o.putNull("logs");
        }
        if (status.equals("COMPLETED")) o.putObject("metrics").put("inference_time", j.predictSeconds());
        answer(ex, 200, o);
    }

    private static double progress(HostedJob j) {
        Instant started = j.startedAt();
        double total = j.predictSeconds();
        if (started == null || total <= 0) return 0;
        return Duration.between(started, Instant.now()).toMillis() / 1000.0 / total;
    }

    private void result(HttpExchange ex, String app, String id) throws IOException {
        HostedJob j = find(app, id);
        if (j == null) {
            answer(ex, 404, detail("Request not found"));
            return;
        }
        switch (j.phase()) {
            case QUEUED, RUNNING -> answer(ex, 400, detail("Request is still in progress"));
            case CANCELED -> answer(ex, 400, detail("Request was cancelled"));
            case FAILED -> answer(ex, j.failure.retryable() ? 500 : 422, failureBody(j));
            case SUCCEEDED -> answer(ex, 200, payload(j));
        }
    }

    private static ObjectNode failureBody(HostedJob j) {
        if (j.failure.retryable()) return detail(j.failure.message());
        ObjectNode o = Json.object();
        ObjectNode e = o.putArray("detail").addObject();
        e.putArray("loc").add("body");
        e.put("msg", j.failure.message());
        e.put("type", "value_error");
        return o;
    }

    private ObjectNode payload(HostedJob j) {
        ObjectNode o = Json.object();
        ArrayNode images = o.putArray("images");
        ArrayNode nsfw = Json.object().arrayNode();
        for (int i = 0; i < j.spec.count(); i++) {
            images.addObject().put("url", baseUrl + "/files/" + j.id + "/" + j.outputName(i)).put("width", j.spec.width())
                    .put("height", j.spec.height()).put("content_type", SandboxRenderer.mimeType(j.spec.format()));
            nsfw.add(false);
        }
        o.putObject("timings").put("inference", j.predictSeconds());
        o.put("seed", j.spec.seed());
        o.set("has_nsfw_concepts", nsfw);
        JsonNode prompt = j.input.get("prompt");
        if (prompt != null) o.set("prompt", prompt);
        return o;
    }

    private void cancel(HttpExchange ex, String app, String id) throws IOException {
        HostedJob j = find(app, id);
        if (j == null) {
            answer(ex, 404, Json.object().put("status", "NOT_FOUND"));
            return;
        }
        if (!j.cancel() && j.phase() != HostedJob.Phase.CANCELED) {
            answer(ex, 400, Json.object().put("status", "ALREADY_COMPLETED"));
            return;
        }
        answer(ex, 202, Json.object().put("status", "CANCELLATION_REQUESTED"));
    }

    // ---- webhooks

    private void completed(HostedJob j) {
        ObjectNode body = Json.object();
        body.put("request_id", j.id);
        body.put("gateway_request_id", j.id);
        if (j.phase() == HostedJob.Phase.SUCCEEDED) {
            body.put("status", "OK");
            body.set("payload", payload(j));
        } else {
            body.put("status", "ERROR");
            body.put("error", "Invalid status code: " + (j.failure.retryable() ? 500 : 422));
            body.set("payload", failureBody(j));
        }
        byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
        if (faults.takeWebhookDropped()) return;
        boolean forged = faults.takeWebhookForged();
        int copies = faults.takeWebhookDuplicated() ? 2 : 1;
        Runnable send = () -> {
            for (int i = 0; i < copies; i++) webhooks.deliver(j.webhook, () -> sign(j.id, bytes, forged));
        };
        // Out of order: this delivery arrives after those of requests that finished later.
        if (faults.takeWebhookReordered()) webhooks.after(REORDER_DELAY.toNanos(), send);
        else send.run();
    }

    private WebhookSender.Signed sign(String requestId, byte[] body, boolean forged) {
        String ts = Long.toString(Instant.now().getEpochSecond());
        String digest;
        try {
            digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
            Signature s = Signature.getInstance("Ed25519");
            s.initSign((forged ? newKey() : keys.getFirst()).pair().getPrivate());
            s.update(String.join("\n", requestId, config.userId(), ts, digest).getBytes(StandardCharsets.UTF_8));
            Map<String, String> h = new LinkedHashMap<>();
            h.put("X-Fal-Webhook-Request-Id", requestId);
            h.put("X-Fal-Webhook-User-Id", config.userId());
            h.put("X-Fal-Webhook-Timestamp", ts);
            h.put("X-Fal-Webhook-Signature", HexFormat.of().formatHex(s.sign()));
            return new WebhookSender.Signed(h, body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 and SHA-256 are part of every JDK", e);
        }
    }

    // ---- files

    private void file(HttpExchange ex, String rest) throws IOException {
        if (faults.takeOutputExpired()) {
            send(ex, 404, "text/plain", "Not Found".getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        int slash = rest.indexOf('/');
        HostedJob j = slash < 0 ? null : jobs.get(rest.substring(0, slash));
        int index = j == null ? -1 : j.outputIndex(rest.substring(slash + 1));
        Instant done = j == null ? null : j.completedAt();
        if (index < 0 || j.phase() != HostedJob.Phase.SUCCEEDED || done == null || Instant.now().isAfter(done.plus(config.outputTtl()))) {
            send(ex, 404, "text/plain", "Not Found".getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        String key = j.id + "/" + index;
        BlobCache.Blob b = outputs.get(key);
        byte[] bytes;
        if (b != null) {
            bytes = b.bytes();
        } else {
            HostedJob.Spec s = j.spec;
            bytes = SandboxRenderer.render(s.prompt(), s.seed() + index, s.width(), s.height(), s.format());
            outputs.put(key, new BlobCache.Blob(bytes, SandboxRenderer.mimeType(s.format()), j.outputName(index)));
        }
        send(ex, 200, SandboxRenderer.mimeType(j.spec.format()), bytes, Map.of());
    }
}

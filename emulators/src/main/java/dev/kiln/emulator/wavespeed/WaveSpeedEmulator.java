package dev.kiln.emulator.wavespeed;

import dev.kiln.emulator.http.EmulatorHttp;
import dev.kiln.emulator.http.Multipart;
import dev.kiln.emulator.support.BlobCache;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.emulator.render.SandboxVideoRenderer;
import dev.kiln.emulator.support.Tokens;
import dev.kiln.emulator.support.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A local WaveSpeed AI v3 API (docs/PROVIDERS.md, "WaveSpeed") on the JDK HTTP server, bound to
 * 127.0.0.1. Kiln's sandbox mode points the WaveSpeed adapter at it, and tests use it to inject
 * faults ({@link #faults()}). It renders real images with {@link SandboxRenderer}.
 *
 * <p>Endpoints, all JSON in the {@code {"code":200,"message":"success","data":…}} envelope:
 * <ul>
 *   <li>{@code POST /api/v3/{model path}} (flat body, optional {@code ?webhook=}) → prediction, {@code created};
 *       the Seedream v4.5 models are checked against their own schemas ({@link WaveSpeedModels})
 *   <li>{@code GET /api/v3/predictions/{id}/result} and {@code GET /api/v3/predictions/{id}}
 *   <li>{@code POST /api/v3/predictions} → {@code {page,total,items}}, newest first
 *   <li>{@code DELETE /api/v3/predictions/{id}} → {@code {id,status:"deleted"}}; a running task is cancelled
 *   <li>{@code POST /api/v3/media/uploads} ({@code {filename,size,content_type?}}) → {@code {upload:{method,url,headers},
 *       download_url}}, then {@code PUT} of the bytes to {@code upload.url} (no key, as a presigned URL)
 *   <li>{@code POST /api/v3/media/upload/binary} (multipart {@code file}) → {@code {type,download_url,filename,size}}, the
 *       older upload the SDKs used before
 *   <li>{@code GET /api/v3/webhook/secret}, {@code GET /api/v3/balance}
 *   <li>{@code GET /outputs/{id}/{i}.{ext}} and {@code GET /media/{token}/{name}}: the "CDN", no auth
 * </ul>
 * Predictions carry only the documented fields: no {@code input} except in webhook bodies, no
 * per-failure {@code code} (docs/PROVIDERS.md, "WaveSpeed").
 */
public final class WaveSpeedEmulator implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WaveSpeedEmulator.class.getName());
    private static final int MAX_JSON = 1024 * 1024;
    private static final int MAX_UPLOAD = 101 * 1024 * 1024;
    private static final Duration RETENTION = Duration.ofDays(7);
    private static final Pattern SIZE = Pattern.compile("(\\d{1,5})\\*(\\d{1,5})");
    private static final int MIN_SIDE = 16;
    private static final Pattern VIDEO_MODEL = Pattern.compile("(?i)(video|[/-][ti]2v|[/-]wan-)");
    private static final int MAX_SIDE = 4096;
    private static final String BASE64_WITH_WEBHOOK =
            "webhook callback does not support base64 output, please use the normal API to use base64 output";

    /**
     * How the emulator behaves.
     *
     * @param port TCP port on 127.0.0.1, 0 for any free one
     * @param apiKey the key every {@code /api/v3} call must present as {@code Bearer}, or null for none
     * @param latency how long a task takes from creation to its result (a quarter of it {@code created})
     * @param failRate share of tasks that end {@code failed} (codes 1403, 5000, 5003)
     * @param webhookSecret the signing secret, {@code whsec_…}
     * @param syncTimeout how long {@code enable_sync_mode} holds the request before answering code 5004
     * @param balance what {@code /api/v3/balance} reports
     * @param outputCacheBytes memory for rendered outputs (evicted ones are rendered again)
     * @param uploadBytes memory for uploads (evicted ones are gone, as expired)
     * @param maxPredictions tasks remembered; older ones are forgotten (404), as after WaveSpeed's 7 days
     * @param randomSeed seeds the fail-rate draws and random image seeds, for repeatable runs
     * @param webhookAttempts deliveries tried per webhook before giving up
     * @param webhookRetryDelay pause after the first failed delivery, growing linearly
     */
    public record Config(int port, String apiKey, Duration latency, double failRate, String webhookSecret,
                         Duration syncTimeout, double balance, long outputCacheBytes, long uploadBytes,
                         int maxPredictions, long randomSeed, int webhookAttempts, Duration webhookRetryDelay) {

        public Config {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port: " + port);
            if (latency == null || latency.isNegative()) throw new IllegalArgumentException("latency: " + latency);
            if (!(failRate >= 0 && failRate <= 1)) throw new IllegalArgumentException("failRate must be 0..1: " + failRate);
            if (webhookSecret == null || !webhookSecret.startsWith("whsec_") || webhookSecret.length() <= 6) {
                throw new IllegalArgumentException("webhookSecret must look like whsec_<text>");
            }
            if (syncTimeout == null || syncTimeout.isNegative()) throw new IllegalArgumentException("syncTimeout: " + syncTimeout);
            if (maxPredictions < 1 || webhookAttempts < 1) throw new IllegalArgumentException("maxPredictions and webhookAttempts must be positive");
            if (webhookRetryDelay == null || webhookRetryDelay.isNegative()) throw new IllegalArgumentException("webhookRetryDelay: " + webhookRetryDelay);
        }

        /** Any free port, no key, instant tasks, no failures, a fresh random webhook secret. */
        public static Config defaults() {
            return new Config(0, null, Duration.ZERO, 0, "whsec_" + Tokens.secret(), Duration.ofSeconds(90), 100.0,
                    64L * 1024 * 1024, 256L * 1024 * 1024, 50_000, 1, 3, Duration.ofMillis(500));
        }

        public Config withPort(int p) {
            return new Config(p, apiKey, latency, failRate, webhookSecret, syncTimeout, balance, outputCacheBytes,
                    uploadBytes, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withApiKey(String key) {
            return new Config(port, key, latency, failRate, webhookSecret, syncTimeout, balance, outputCacheBytes,
                    uploadBytes, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withLatency(Duration d) {
            return new Config(port, apiKey, d, failRate, webhookSecret, syncTimeout, balance, outputCacheBytes,
                    uploadBytes, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withFailRate(double rate) {
            return new Config(port, apiKey, latency, rate, webhookSecret, syncTimeout, balance, outputCacheBytes,
                    uploadBytes, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withWebhookSecret(String secret) {
            return new Config(port, apiKey, latency, failRate, secret, syncTimeout, balance, outputCacheBytes,
                    uploadBytes, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withSyncTimeout(Duration d) {
            return new Config(port, apiKey, latency, failRate, webhookSecret, d, balance, outputCacheBytes,
                    uploadBytes, maxPredictions, randomSeed, webhookAttempts, webhookRetryDelay);
        }

        public Config withRandomSeed(long seed) {
            return new Config(port, apiKey, latency, failRate, webhookSecret, syncTimeout, balance, outputCacheBytes,
                    uploadBytes, maxPredictions, seed, webhookAttempts, webhookRetryDelay);
        }

        public Config withWebhookRetries(int attempts, Duration delay) {
            return new Config(port, apiKey, latency, failRate, webhookSecret, syncTimeout, balance, outputCacheBytes,
                    uploadBytes, maxPredictions, randomSeed, attempts, delay);
        }
    }


    /** One accepted submit, in arrival order: what a test checks to prove nothing was sent twice. */
    public record Submission(String id, String model, JsonNode input, String webhook, Instant at) {}

    /** One file received, in arrival order; {@code via} is {@code "direct"} (announced, then PUT) or {@code "binary"}. */
    public record Upload(String via, String filename, String contentType, int size) {}

    private final Config config;
    private final HttpServer server;
    private final ExecutorService executor;
    private final String baseUrl;
    private final WaveSpeedFaults faults = new WaveSpeedFaults();
    private final WaveSpeedWebhooks webhooks;
    private final Map<String, WaveSpeedPrediction> predictions = new ConcurrentHashMap<>();
    private final ConcurrentLinkedDeque<WaveSpeedPrediction> order = new ConcurrentLinkedDeque<>();
    private final AtomicInteger count = new AtomicInteger();
    private final ArrayDeque<Submission> submissions = new ArrayDeque<>();
    private final ConcurrentLinkedDeque<Upload> received = new ConcurrentLinkedDeque<>();
    private final BlobCache outputs;
    private final BlobCache uploads;
    /** Direct uploads announced with {@code POST /media/uploads} whose bytes have not been PUT yet, by token. */
    private final Map<String, Ticket> tickets = new ConcurrentHashMap<>();
    private final SplittableRandom random;
    private final AtomicBoolean closed = new AtomicBoolean();
    private WaveSpeedJournal journal;

    private WaveSpeedEmulator(Config config) throws IOException {
        this.config = config;
        this.random = new SplittableRandom(config.randomSeed());
        this.outputs = new BlobCache(config.outputCacheBytes());
        this.uploads = new BlobCache(config.uploadBytes());
        this.webhooks = new WaveSpeedWebhooks(config.webhookSecret(), faults, config.webhookAttempts(), config.webhookRetryDelay());
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        this.server = EmulatorHttp.loopbackServer(config.port(), executor, this::handle);
        this.baseUrl = EmulatorHttp.baseUrl(server);
    }

    /**
     * Starts an emulator that remembers its tasks in {@code journal} (a file), and first takes back
     * the tasks an earlier emulator wrote there: tasks outlive a restart, as at a real provider.
     */
    public static WaveSpeedEmulator start(Config config, java.nio.file.Path journal) {
        WaveSpeedEmulator e = start(config);
        try {
            List<WaveSpeedJournal.Entry> entries = new java.util.ArrayList<>();
            e.journal = WaveSpeedJournal.open(journal, config.maxPredictions(), entries);
            for (WaveSpeedJournal.Entry en : entries) {
                WaveSpeedPrediction p = new WaveSpeedPrediction(en.id(), en.model(), en.input(), en.spec(), en.webhook(), en.createdAt(),
                        en.latency().toNanos(), en.failure(), en.never());
                if (en.cancelled()) p.cancel();
                e.predictions.put(p.id, p);
                e.order.addLast(p);
                e.count.incrementAndGet();
                if (p.webhook != null && !p.terminal()) e.webhooks.schedule(p, () -> Json.MAPPER.writeValueAsBytes(e.webhookBody(p)));
            }
            return e;
        } catch (RuntimeException ex) {
            e.close(); // never leave a listening server behind a failed start
            throw ex;
        }
    }

    /** Starts an emulator; close it when done. */
    public static WaveSpeedEmulator start(Config config) {
        try {
            WaveSpeedEmulator e = new WaveSpeedEmulator(config);
            e.server.start();
            LOG.log(System.Logger.Level.DEBUG, "WaveSpeed emulator listening on {0}", e.baseUrl);
            return e;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the WaveSpeed emulator on port " + config.port(), e);
        }
    }

    /** Where it listens, e.g. {@code http://127.0.0.1:43121}; the API is under {@code /api/v3}. */
    public String baseUrl() {
        return baseUrl;
    }

    public Config config() {
        return config;
    }

    /** The fault knobs. */
    public WaveSpeedFaults faults() {
        return faults;
    }

    /** Whether the journal's last write failed (tasks since then will not outlive a restart); false without a journal. */
    public boolean journalFailing() {
        WaveSpeedJournal j = journal;
        return j != null && j.failing();
    }

    /** Accepted submits so far, oldest first (at most {@link Config#maxPredictions()} remembered). */
    public List<Submission> submissions() {
        synchronized (submissions) {
            return List.copyOf(submissions);
        }
    }

    /** Files uploaded so far, oldest first (the newest 1,000). */
    public List<Upload> uploads() {
        return List.copyOf(received);
    }

    private void received(Upload u) {
        received.addLast(u);
        while (received.size() > 1000) received.pollFirst();
    }

    /** The current status of a task ({@code created}, {@code processing}, {@code completed}, {@code failed}, {@code cancelled}), or null if unknown. */
    public String status(String predictionId) {
        WaveSpeedPrediction p = predictions.get(predictionId);
        return p == null ? null : p.status();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        server.stop(0);
        webhooks.close();
        // shutdownNow: requests held by sync mode or a delay fault must not hold up the close.
        executor.shutdownNow();
        outputs.clear();
        uploads.clear();
        if (journal != null) journal.close();
    }

    /** A WaveSpeed-style task id: 32 hex digits. */
    static String newId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return HexFormat.of().toHexDigits(r.nextLong()) + HexFormat.of().toHexDigits(r.nextLong());
    }

    // ---- HTTP plumbing

    /** Thrown to close the connection without an answer. */
    private static final class Drop extends RuntimeException {
        Drop() {
            super(null, null, false, false);
        }
    }

    /** An error answer in the envelope, 400 (bad input, with WaveSpeed's message) unless told otherwise. */
    private static final class BadInput extends RuntimeException {
        final int status;

        BadInput(String message) {
            this(400, message);
        }

        BadInput(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private void handle(HttpExchange ex) {
        try {
            Duration delay = faults.takeDelay();
            if (delay != null) Thread.sleep(delay);
            route(ex);
        } catch (Drop d) {
            // Closing an exchange that sent no headers closes the connection: the client gets nothing.
        } catch (BadInput e) {
            answerQuietly(ex, e.status, envelope(e.status, e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "WaveSpeed emulator failed on " + ex.getRequestURI(), e);
            answerQuietly(ex, 500, envelope(500, "internal error: " + e.getClass().getSimpleName()));
        } finally {
            ex.close();
        }
    }

    private void route(HttpExchange ex) throws IOException, InterruptedException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        if (path.startsWith("/outputs/")) {
            requireGet(method);
            output(ex, path.substring("/outputs/".length()));
            return;
        }
        if (path.startsWith("/media/")) {
            requireGet(method);
            media(ex, path.substring("/media/".length()));
            return;
        }
        if (path.startsWith("/upload/")) {
            requireMethod(method, "PUT");
            put(ex, path.substring("/upload/".length()));
            return;
        }
        if (!path.startsWith("/api/v3/")) {
            answer(ex, 404, envelope(404, "not found"));
            return;
        }
        if (!authorized(ex)) {
            answer(ex, 401, envelope(401, "Unauthorized"));
            return;
        }
        String rest = path.substring("/api/v3/".length());
        switch (rest) {
            case "balance" -> {
                requireGet(method);
                ObjectNode d = Json.object();
                d.put("balance", config.balance());
                answer(ex, 200, success(d));
            }
            case "webhook/secret" -> {
                requireGet(method);
                ObjectNode d = Json.object();
                d.put("secret", config.webhookSecret());
                answer(ex, 200, success(d));
            }
            case "predictions" -> {
                requireMethod(method, "POST");
                list(ex);
            }
            case "media/upload/binary" -> {
                requireMethod(method, "POST");
                upload(ex);
            }
            case "media/uploads" -> {
                requireMethod(method, "POST");
                uploadTicket(ex);
            }
            default -> {
                if (rest.startsWith("predictions/")) {
                    String[] seg = rest.split("/");
                    boolean result = seg.length == 3 && seg[2].equals("result");
                    if (seg.length != 2 && !result) {
                        answer(ex, 404, envelope(404, "not found"));
                    } else if (method.equals("GET")) {
                        result(ex, seg[1]);
                    } else if (method.equals("DELETE") && !result) {
                        delete(ex, seg[1]);
                    } else {
                        throw new BadInput(405, "method " + method + " not allowed here");
                    }
                } else {
                    requireMethod(method, "POST");
                    submit(ex, rest);
                }
            }
        }
    }

    private boolean authorized(HttpExchange ex) {
        if (config.apiKey() == null) return true;
        String h = ex.getRequestHeaders().getFirst("Authorization");
        byte[] expected = ("Bearer " + config.apiKey()).getBytes(StandardCharsets.UTF_8);
        return h != null && MessageDigest.isEqual(h.getBytes(StandardCharsets.UTF_8), expected);
    }

    private static void requireGet(String method) {
        requireMethod(method, "GET");
    }

    private static void requireMethod(String method, String wanted) {
        if (!method.equals(wanted)) throw new BadInput(405, "method " + method + " not allowed here");
    }

    // ---- submit

    private void submit(HttpExchange ex, String model) throws IOException, InterruptedException {
        byte[] raw = readBody(ex, MAX_JSON);
        Duration retryAfter = faults.takeSubmitRateLimit();
        if (retryAfter != null) {
            rateLimited(ex, retryAfter);
            return;
        }
        if (faults.takeSubmitServerError()) {
            answer(ex, 500, envelope(500, "Internal server error"));
            return;
        }
        if (faults.takeSubmitLost()) throw new Drop();
        if (model.isBlank() || model.endsWith("/")) throw new BadInput("model path missing");
        ObjectNode input = jsonObject(raw, false);
        String webhook = queryParam(ex, "webhook");
        WaveSpeedPrediction.Spec spec = spec(model, input);
        WaveSpeedPrediction.Failure unreadable = null;
        if (spec.width() == 0) {
            // An edit without size follows its first image, which WaveSpeed fetches; one it cannot fetch fails the task.
            int[] size = null;
            String first = input.path("images").path(0).asString("");
            try {
                size = inputSize(first);
            } catch (RuntimeException e) {
                unreadable = new WaveSpeedPrediction.Failure(1402, "media url not accessible: " + abbreviate(first));
            }
            int[] out = size == null ? new int[] {2048, 2048} : WaveSpeedModels.followInput(size[0], size[1]);
            spec = new WaveSpeedPrediction.Spec(spec.prompt(), spec.seed(), out[0], out[1], spec.count(), spec.format(), spec.base64());
        }
        if (webhook != null) {
            if (spec.base64()) {
                ObjectNode err = Json.object();
                err.put("error", BASE64_WITH_WEBHOOK);
                answer(ex, 400, err);
                return;
            }
            URI uri;
            try {
                uri = URI.create(webhook);
            } catch (IllegalArgumentException e) {
                throw new BadInput("invalid webhook url");
            }
            if (uri.getHost() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
                throw new BadInput("invalid webhook url");
            }
        }
        WaveSpeedPrediction p = create(model, input, spec, webhook, unreadable);

        if (faults.takeSubmitDropped()) throw new Drop();
        if (faults.takeSubmitMalformed()) {
            byte[] cut = ("{\"code\":200,\"message\":\"success\",\"data\":{\"id\":\"" + p.id).getBytes(StandardCharsets.UTF_8);
            send(ex, 200, "application/json", cut, Map.of());
            return;
        }
        boolean sync = input.path("enable_sync_mode").asBoolean(false);
        if (!sync) {
            answer(ex, 200, success(json(p, true, false)));
            return;
        }
        long wait = p.nanosUntilReady();
        long cap = config.syncTimeout().toNanos();
        Thread.sleep(Duration.ofNanos(wait < 0 ? cap : Math.min(wait, cap)));
        ObjectNode data = json(p);
        if (!p.terminal()) {
            // The one place a numeric code appears in data: the SDKs test for it (wavespeed-python client.py, _format_sync_mode_error).
            data.put("status", WaveSpeedPrediction.PROCESSING);
            data.put("code", 5004);
            data.put("error", "Sync mode timed out after " + config.syncTimeout().toSeconds()
                    + " seconds, the task is still running; get the result from urls.get");
        }
        answer(ex, 200, success(data));
    }

    /** Validates the flat model input the way WaveSpeed's models do, and takes what to render. */
    private WaveSpeedPrediction.Spec spec(String model, ObjectNode in) {
        WaveSpeedModels.Schema schema = WaveSpeedModels.find(model);
        if (schema != null) {
            WaveSpeedModels.Asked asked;
            try {
                asked = WaveSpeedModels.check(schema, in);
            } catch (IllegalArgumentException e) {
                throw new BadInput(e.getMessage());
            }
            long seed;
            synchronized (random) {
                seed = random.nextInt(Integer.MAX_VALUE); // these models take no seed
            }
            String prompt = asked.prompt();
            for (String url : asked.images()) prompt += " | " + abbreviate(url);
            return new WaveSpeedPrediction.Spec(prompt, seed, asked.width(), asked.height(), 1, "jpeg",
                    bool(in, "enable_base64_output"));
        }
        JsonNode prompt = in.get("prompt");
        if (prompt == null || !prompt.isString() || prompt.asString().isBlank()) throw new BadInput("prompt is required");

        int width = 1024, height = 1024;
        JsonNode size = in.get("size");
        if (size != null && !size.isNull()) {
            Matcher m = size.isString() ? SIZE.matcher(size.asString().trim()) : null;
            if (m == null || !m.matches()) throw new BadInput("size must be \"WIDTH*HEIGHT\", e.g. \"1024*1024\"");
            width = Integer.parseInt(m.group(1));
            height = Integer.parseInt(m.group(2));
        } else if (in.has("width") || in.has("height")) {
            width = integer(in, "width", MIN_SIDE, MAX_SIDE, 1024);
            height = integer(in, "height", MIN_SIDE, MAX_SIDE, 1024);
        }
        if (width < MIN_SIDE || height < MIN_SIDE || width > MAX_SIDE || height > MAX_SIDE) {
            throw new BadInput("size out of range: each side must be " + MIN_SIDE + ".." + MAX_SIDE);
        }

        long seed;
        JsonNode s = in.get("seed");
        if (s == null || s.isNull()) {
            seed = -1;
        } else if (s.isIntegralNumber() && s.canConvertToLong()) {
            seed = s.asLong();
            if (seed < -1) throw new BadInput("seed must be -1 or a non-negative integer");
        } else {
            throw new BadInput("seed must be an integer");
        }
        if (seed == -1) {
            synchronized (random) {
                seed = random.nextInt(Integer.MAX_VALUE);
            }
        }

        int count = integer(in, "num_images", 1, 4, 1);
        String format = "png";
        JsonNode f = in.get("output_format");
        String asked = f == null || f.isNull() ? null : f.isString() ? f.asString() : "?";
        // A video model: its path says so (…/t2v, …-video, …/i2v) or its input has a frame count.
        boolean video = in.has("num_frames") || VIDEO_MODEL.matcher(model).find();
        int frames = 0, fps = 0;
        if (video) {
            if (asked != null && !SandboxVideoRenderer.isVideoFormat(asked)) throw new BadInput("output_format must be one of mp4, webm, gif");
            format = asked == null ? "mp4" : SandboxVideoRenderer.normalize(asked);
            frames = integer(in, "num_frames", 1, SandboxVideoRenderer.MAX_FRAMES, 16);
            fps = integer(in, "fps", 1, 120, 16);
            if (width > SandboxVideoRenderer.MAX_SIDE || height > SandboxVideoRenderer.MAX_SIDE) {
                throw new BadInput("size out of range for video: each side must be " + MIN_SIDE + ".." + SandboxVideoRenderer.MAX_SIDE);
            }
            count = 1;
        } else if (asked != null) {
            try {
                format = SandboxRenderer.normalize(asked);
            } catch (IllegalArgumentException e) {
                throw new BadInput("output_format must be one of png, jpeg, webp");
            }
        }

        JsonNode images = in.get("images");
        boolean edit = model.endsWith("/edit") || model.contains("/edit-");
        if (images != null && !images.isNull()) {
            if (!images.isArray() || images.isEmpty() || images.size() > 10) throw new BadInput("images must hold 1 to 10 image URLs");
            for (JsonNode i : images) {
                String url = i.isString() ? i.asString() : "";
                if (!(url.startsWith("http://") || url.startsWith("https://") || url.startsWith("data:"))) {
                    throw new BadInput("images must be URLs");
                }
            }
        } else if (edit) {
            throw new BadInput("images is required");
        }
        boolean base64 = bool(in, "enable_base64_output");
        bool(in, "enable_sync_mode");
        return new WaveSpeedPrediction.Spec(prompt.asString(), seed, width, height, count, format, base64, frames, fps);
    }

    private static int integer(ObjectNode in, String field, int min, int max, int dflt) {
        JsonNode n = in.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < min || n.asInt() > max) {
            throw new BadInput(field + " must be an integer from " + min + " to " + max);
        }
        return n.asInt();
    }

    private static boolean bool(ObjectNode in, String field) {
        JsonNode n = in.get(field);
        if (n == null || n.isNull()) return false;
        if (!n.isBoolean()) throw new BadInput(field + " must be true or false");
        return n.asBoolean();
    }

    /** The width and height of an input image: one uploaded here, a data URI, or one fetched from its URL. */
    private int[] inputSize(String url) {
        byte[] bytes;
        String prefix = baseUrl + "/media/";
        if (url.startsWith(prefix)) {
            String rest = url.substring(prefix.length());
            int slash = rest.indexOf('/');
            BlobCache.Blob b = slash < 0 ? null : uploads.get(rest.substring(0, slash));
            if (b == null) throw new IllegalArgumentException("no such upload");
            bytes = b.bytes();
        } else if (url.startsWith("data:")) {
            bytes = Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1));
        } else {
            try (java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(5)).followRedirects(java.net.http.HttpClient.Redirect.NORMAL).build()) {
                var r = client.send(java.net.http.HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                        java.net.http.HttpResponse.BodyHandlers.ofByteArray());
                if (r.statusCode() / 100 != 2) throw new IllegalArgumentException("HTTP " + r.statusCode());
                bytes = r.body();
            } catch (IOException e) {
                throw new IllegalArgumentException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalArgumentException(e);
            }
        }
        try {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(bytes));
            if (img == null) throw new IllegalArgumentException("not an image");
            return new int[] {img.getWidth(), img.getHeight()};
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }

    private WaveSpeedPrediction create(String model, ObjectNode input, WaveSpeedPrediction.Spec spec, String webhook,
                                       WaveSpeedPrediction.Failure inputFailure) {
        WaveSpeedPrediction.Failure failure = inputFailure != null ? inputFailure : faults.takeFailure();
        if (failure == null && config.failRate() > 0) {
            synchronized (random) {
                if (random.nextDouble() < config.failRate()) {
                    failure = switch (random.nextInt(3)) {
                        case 0 -> new WaveSpeedPrediction.Failure(1403, "task execution failed");
                        case 1 -> new WaveSpeedPrediction.Failure(5000, "internal server error");
                        default -> new WaveSpeedPrediction.Failure(5003, "service temporarily unavailable");
                    };
                }
            }
        }
        boolean never = faults.takeNeverComplete();
        WaveSpeedPrediction p = new WaveSpeedPrediction(newId(), model, input, spec,
                webhook, config.latency().toNanos(), failure, never);
        WaveSpeedJournal j = journal;
        if (j != null) {
            j.created(new WaveSpeedJournal.Entry(p.id, model, input, spec, webhook, p.createdAt, config.latency(), failure, never, false));
        }
        predictions.put(p.id, p);
        order.addLast(p);
        if (count.incrementAndGet() > config.maxPredictions()) {
            WaveSpeedPrediction old = order.pollFirst();
            if (old != null) {
                predictions.remove(old.id);
                count.decrementAndGet();
            }
        }
        synchronized (submissions) {
            submissions.addLast(new Submission(p.id, model, input.deepCopy(), webhook, p.createdAt));
            if (submissions.size() > config.maxPredictions()) submissions.removeFirst();
        }
        if (webhook != null) webhooks.schedule(p, () -> Json.MAPPER.writeValueAsBytes(webhookBody(p)));
        return p;
    }

    /** The prediction as results and list items show it (no {@code input}). */
    private ObjectNode json(WaveSpeedPrediction p) {
        return json(p, false, false);
    }

    /** The webhook body: the prediction with its {@code input}, as wavespeed.ai/docs/how-to-use-webhooks shows it. */
    private ObjectNode webhookBody(WaveSpeedPrediction p) {
        return json(p, false, true);
    }

    private ObjectNode json(WaveSpeedPrediction p, boolean asSubmitted, boolean withInput) {
        if (!p.spec.base64()) {
            return p.toJson(baseUrl, i -> baseUrl + "/outputs/" + p.id + "/" + p.outputName(i), asSubmitted, withInput);
        }
        return p.toJson(baseUrl, i -> Base64.getEncoder().encodeToString(render(p, i)), asSubmitted, withInput);
    }

    private byte[] render(WaveSpeedPrediction p, int i) {
        String key = p.id + "/" + i;
        BlobCache.Blob b = outputs.get(key);
        if (b != null) return b.bytes();
        byte[] bytes = p.spec.render(i);
        outputs.put(key, new BlobCache.Blob(bytes, p.spec.mimeType(), p.outputName(i)));
        return bytes;
    }

    // ---- tasks

    private void result(HttpExchange ex, String id) throws IOException {
        Duration retryAfter = faults.takePollRateLimit();
        if (retryAfter != null) {
            rateLimited(ex, retryAfter);
            return;
        }
        if (faults.takePollServerError()) {
            answer(ex, 500, envelope(500, "Internal server error"));
            return;
        }
        WaveSpeedPrediction p = live(id);
        if (p == null) {
            answer(ex, 404, envelope(404, "prediction not found"));
            return;
        }
        answer(ex, 200, success(json(p)));
    }

    private void delete(HttpExchange ex, String id) throws IOException {
        WaveSpeedPrediction p = live(id);
        if (p == null) {
            answer(ex, 404, envelope(404, "prediction not found"));
            return;
        }
        if (p.cancel() && journal != null) journal.cancelled(p.id);
        ObjectNode d = Json.object();
        d.put("id", p.id);
        d.put("status", "deleted");
        answer(ex, 200, success(d));
    }

    /** A known task younger than the retention period, or null. */
    private WaveSpeedPrediction live(String id) {
        WaveSpeedPrediction p = predictions.get(id);
        return p == null || p.createdAt.isBefore(Instant.now().minus(RETENTION)) ? null : p;
    }

    private void list(HttpExchange ex) throws IOException {
        ObjectNode q = jsonObject(readBody(ex, MAX_JSON), true);
        if (faults.takeListServerError()) {
            answer(ex, 500, envelope(500, "Internal server error"));
            return;
        }
        int page = integer(q, "page", 1, Integer.MAX_VALUE, 1);
        int pageSize = integer(q, "page_size", 1, 100, 20);
        String model = text(q, "model");
        String status = text(q, "status");
        Instant after = instant(q, "created_after");
        Instant before = instant(q, "created_before");
        Instant horizon = Instant.now().minus(RETENTION);
        List<ObjectNode> items = new ArrayList<>();
        int total = 0;
        long skip = (long) (page - 1) * pageSize;
        for (Iterator<WaveSpeedPrediction> it = order.descendingIterator(); it.hasNext(); ) {
            WaveSpeedPrediction p = it.next();
            if (p.createdAt.isBefore(horizon)) break;
            if (model != null && !model.equals(p.model)) continue;
            if (status != null && !status.equals(p.status())) continue;
            if (after != null && p.createdAt.isBefore(after)) continue;
            if (before != null && !p.createdAt.isBefore(before)) continue;
            if (total >= skip && items.size() < pageSize) items.add(json(p));
            total++;
        }
        ObjectNode d = Json.object();
        d.put("page", page);
        d.put("total", total);
        d.putArray("items").addAll(items);
        answer(ex, 200, success(d));
    }

    private static String text(ObjectNode q, String field) {
        JsonNode n = q.get(field);
        if (n == null || n.isNull() || (n.isString() && n.asString().isEmpty())) return null;
        if (!n.isString()) throw new BadInput(field + " must be a string");
        return n.asString();
    }

    private static Instant instant(ObjectNode q, String field) {
        String s = text(q, field);
        if (s == null) return null;
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            throw new BadInput(field + " must be an ISO-8601 date-time");
        }
    }

    // ---- files

    private void output(HttpExchange ex, String rest) throws IOException {
        if (faults.takeOutputExpired()) {
            answer(ex, 404, envelope(404, "output expired"));
            return;
        }
        int slash = rest.indexOf('/');
        WaveSpeedPrediction p = slash < 0 ? null : live(rest.substring(0, slash));
        int index = p == null ? -1 : p.outputIndex(rest.substring(slash + 1));
        if (index < 0 || !p.status().equals(WaveSpeedPrediction.COMPLETED)) {
            answer(ex, 404, envelope(404, "not found"));
            return;
        }
        send(ex, 200, p.spec.mimeType(), render(p, index), Map.of("Cache-Control", "max-age=604800"));
    }

    private void media(HttpExchange ex, String rest) throws IOException {
        int slash = rest.indexOf('/');
        BlobCache.Blob b = slash < 0 ? null : uploads.get(rest.substring(0, slash));
        if (b == null || !b.filename().equals(rest.substring(slash + 1))) {
            answer(ex, 404, envelope(404, "not found"));
            return;
        }
        send(ex, 200, b.contentType(), b.bytes(), Map.of());
    }

    /** A direct upload waiting for its {@code PUT}. */
    private record Ticket(String name, String contentType, long size, Instant expires) {}

    private static final Duration TICKET_LIFETIME = Duration.ofHours(1);
    private static final int MAX_TICKETS = 10_000;

    /**
     * {@code POST /api/v3/media/uploads}: the upload the current SDKs use (wavespeed-python
     * {@code Client.upload}, wavespeed-java {@code Client.upload}). The answer tells the client where
     * to {@code PUT} the bytes and where they will be served.
     */
    private void uploadTicket(HttpExchange ex) throws IOException {
        ObjectNode q = jsonObject(readBody(ex, MAX_JSON), false);
        if (faults.takeDirectUploadMissing()) {
            answer(ex, 404, envelope(404, "not found"));
            return;
        }
        JsonNode fn = q.get("filename");
        if (fn == null || !fn.isString() || fn.asString().isBlank() || fn.asString().length() > 255) {
            throw new BadInput("filename is required (at most 255 characters)");
        }
        JsonNode sz = q.get("size");
        if (sz == null || !sz.isIntegralNumber() || sz.asLong() <= 0) throw new BadInput("size must be a positive integer (bytes)");
        JsonNode ct = q.get("content_type");
        if (ct != null && !ct.isNull() && !ct.isString()) throw new BadInput("content_type must be a string");
        String name = safeName(fn.asString());
        String contentType = ct != null && ct.isString() ? ct.asString() : guessType(name);
        String type = typeOf(contentType);
        if (type == null) throw new BadInput("unsupported file type");
        long limit = limitOf(type);
        if (sz.asLong() > limit) throw new BadInput(type + " files are limited to " + (limit >> 20) + " MB");
        Instant now = Instant.now();
        tickets.values().removeIf(t -> t.expires().isBefore(now));
        if (tickets.size() >= MAX_TICKETS) throw new BadInput(429, "too many uploads in progress");
        String token = newId();
        tickets.put(token, new Ticket(name, contentType, sz.asLong(), now.plus(TICKET_LIFETIME)));
        ObjectNode d = Json.object();
        ObjectNode upload = d.putObject("upload");
        upload.put("method", "PUT");
        upload.put("url", baseUrl + "/upload/" + token);
        upload.putObject("headers").put("Content-Type", contentType);
        d.put("download_url", baseUrl + "/media/" + token + "/" + URLEncoder.encode(name, StandardCharsets.UTF_8));
        answer(ex, 200, success(d));
    }

    /**
     * {@code PUT /upload/{token}}: the presigned storage URL of a direct upload. Like a presigned
     * object-store URL it takes no API key (a request that sends one is refused, as S3 refuses a
     * second auth mechanism), and the signed {@code Content-Type} must match.
     */
    private void put(HttpExchange ex, String token) throws IOException {
        Ticket t = tickets.get(token);
        if (t == null || t.expires().isBefore(Instant.now())) {
            answer(ex, 403, envelope(403, "upload URL unknown or expired"));
            return;
        }
        if (ex.getRequestHeaders().getFirst("Authorization") != null) {
            answer(ex, 400, envelope(400, "only one auth mechanism allowed; the upload URL is already signed"));
            return;
        }
        String ct = ex.getRequestHeaders().getFirst("Content-Type");
        if (ct == null || !ct.equalsIgnoreCase(t.contentType())) {
            answer(ex, 403, envelope(403, "signature does not match: Content-Type must be " + t.contentType()));
            return;
        }
        byte[] body = readBody(ex, MAX_UPLOAD);
        if (body.length != t.size()) {
            answer(ex, 400, envelope(400, "the upload has " + body.length + " bytes; " + t.size() + " were announced"));
            return;
        }
        tickets.remove(token);
        uploads.put(token, new BlobCache.Blob(body, t.contentType(), t.name()));
        received(new Upload("direct", t.name(), t.contentType(), body.length));
        send(ex, 200, "text/plain", new byte[0], Map.of());
    }

    private static String safeName(String name) {
        String n = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1).replaceAll("[^A-Za-z0-9._-]", "_");
        return n.isEmpty() ? "upload" : n;
    }

    private static String guessType(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".png")) return "image/png";
        if (n.endsWith(".jpg") || n.endsWith(".jpeg")) return "image/jpeg";
        if (n.endsWith(".webp")) return "image/webp";
        if (n.endsWith(".gif")) return "image/gif";
        if (n.endsWith(".mp4")) return "video/mp4";
        return "application/octet-stream";
    }

    private static String typeOf(String contentType) {
        String ct = contentType.toLowerCase(Locale.ROOT);
        for (String t : new String[] {"image", "video", "audio"}) if (ct.startsWith(t + "/")) return t;
        return null;
    }

    /** Per-type upload limits (wavespeed.ai/docs upload-files): 20 MB images, 100 MB videos, 50 MB audio. */
    private static long limitOf(String type) {
        return switch (type) {
            case "image" -> 20L << 20;
            case "audio" -> 50L << 20;
            default -> 100L << 20;
        };
    }

    private void upload(HttpExchange ex) throws IOException {
        byte[] raw = readBody(ex, MAX_UPLOAD);
        List<Multipart.Part> parts;
        try {
            parts = Multipart.parse(ex.getRequestHeaders().getFirst("Content-Type"), raw);
        } catch (IllegalArgumentException e) {
            throw new BadInput(e.getMessage());
        }
        Multipart.Part file = parts.stream().filter(p -> "file".equals(p.name())).findFirst()
                .orElseThrow(() -> new BadInput("file is required"));
        String type = mediaType(file);
        long limit = limitOf(type);
        if (file.body().length == 0) throw new BadInput("file is empty");
        if (file.body().length > limit) throw new BadInput(type + " files are limited to " + (limit >> 20) + " MB");
        String name = safeName(file.filename() == null || file.filename().isBlank() ? "upload" : file.filename());
        String contentType = file.contentType() != null ? file.contentType() : "application/octet-stream";
        String token = newId();
        uploads.put(token, new BlobCache.Blob(file.body(), contentType, name));
        received(new Upload("binary", name, contentType, file.body().length));
        ObjectNode d = Json.object();
        d.put("type", type);
        d.put("download_url", baseUrl + "/media/" + token + "/" + URLEncoder.encode(name, StandardCharsets.UTF_8));
        d.put("filename", name);
        d.put("size", file.body().length);
        answer(ex, 200, success(d));
    }

    private static String mediaType(Multipart.Part part) {
        String ct = part.contentType() == null ? "" : part.contentType().toLowerCase(Locale.ROOT);
        for (String t : new String[] {"image", "video", "audio"}) if (ct.startsWith(t + "/")) return t;
        byte[] b = part.body();
        boolean png = b.length > 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
        boolean jpeg = b.length > 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8;
        boolean webp = b.length > 12 && b[0] == 'R' && b[1] == 'I' && b[8] == 'W' && b[9] == 'E';
        boolean gif = b.length > 6 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F';
        if (png || jpeg || webp || gif) return "image";
        throw new BadInput("unsupported file type");
    }

    // ---- answers

    private static ObjectNode success(JsonNode data) {
        ObjectNode o = Json.object();
        o.put("code", 200);
        o.put("message", "success");
        o.set("data", data);
        return o;
    }

    private static ObjectNode envelope(int code, String message) {
        ObjectNode o = Json.object();
        o.put("code", code);
        o.put("message", message);
        o.putNull("data");
        return o;
    }

    private static void rateLimited(HttpExchange ex, Duration retryAfter) throws IOException {
        long seconds = (retryAfter.toMillis() + 999) / 1000;
        byte[] body = Json.MAPPER.writeValueAsBytes(envelope(429, "Too many requests, please slow down"));
        send(ex, 429, "application/json", body, Map.of("Retry-After", Long.toString(seconds)));
    }

    private static void answer(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json", Json.MAPPER.writeValueAsBytes(body), Map.of());
    }

    private static void answerQuietly(HttpExchange ex, int status, JsonNode body) {
        try {
            answer(ex, status, body);
        } catch (IOException | RuntimeException ignored) {
            // The answer had already started or the client left; nothing more to tell it.
        }
    }

    private static void send(HttpExchange ex, int status, String contentType, byte[] body, Map<String, String> headers) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) ex.getResponseBody().write(body);
    }

    private static byte[] readBody(HttpExchange ex, int max) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) throw new BadInput(413, "request body too large");
            return b;
        }
    }

    private static ObjectNode jsonObject(byte[] raw, boolean emptyIsObject) {
        if (raw.length == 0 && emptyIsObject) return Json.object();
        try {
            JsonNode n = Json.MAPPER.readTree(raw);
            if (n instanceof ObjectNode o) return o;
        } catch (JacksonException e) {
            // answered below
        }
        throw new BadInput("request body must be a JSON object");
    }

    private static String queryParam(HttpExchange ex, String name) {
        String q = ex.getRequestURI().getRawQuery();
        if (q == null) return null;
        for (String pair : q.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (k.equals(name)) {
                String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                return v.isEmpty() ? null : v;
            }
        }
        return null;
    }
}

package dev.kiln.emulator.runpod;

import dev.kiln.emulator.http.EmulatorHttp;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.emulator.comfy.ComfyGraph;
import dev.kiln.emulator.comfy.ComfyInventory;
import dev.kiln.emulator.comfy.ComfyMachine;
import dev.kiln.emulator.support.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A local RunPod serverless endpoint running worker-comfyui (docs/PROVIDERS.md, "RunPod serverless") on the
 * JDK HTTP server, bound to 127.0.0.1. Under {@code /v2/{endpoint id}}: {@code POST /run} (10 MB
 * body limit), {@code POST /runsync} (20 MB, waits {@code ?wait=} ms), {@code GET /status/{id}},
 * {@code POST /cancel/{id}}, {@code POST /retry/{id}}, {@code POST /purge-queue}, {@code GET /health};
 * Bearer key. Jobs go {@code IN_QUEUE → IN_PROGRESS → COMPLETED | FAILED | CANCELLED | TIMED_OUT}
 * on {@code workers} workers, honour {@code policy.executionTimeout} and {@code ttl}, and end with
 * one webhook POST (the {@code /status} body, unsigned, retried twice on failure). The handler is
 * worker-comfyui's ({@link WorkerComfyUi}) on the sandbox graph machine.
 */
public final class RunPodEmulator implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RunPodEmulator.class.getName());
    /** RunPod's payload limits ("10 MB" for /run, "20 MB" for /runsync, counted in decimal bytes). */
    public static final int RUN_LIMIT = 10_000_000;
    public static final int RUNSYNC_LIMIT = 20_000_000;
    /** RunPod: {@code executionTimeout} "must be > 5000 ms"; {@code ttl} at least 10 s (docs.runpod.io, send-requests, execution policies). */
    private static final long MIN_EXECUTION_TIMEOUT = 5_001;
    private static final long DEFAULT_EXECUTION_TIMEOUT = 600_000;
    private static final long DEFAULT_TTL = 86_400_000;
    private static final long MAX_POLICY = 7L * 24 * 3600 * 1000;
    /** Memory for finished jobs' outputs (base64 images); past it the oldest finished jobs are forgotten (404), as if expired. */
    private static final long MAX_RESULT_CHARS = 256L * 1024 * 1024;

    /**
     * How the emulator behaves.
     *
     * @param port TCP port on 127.0.0.1, 0 for any free one
     * @param apiKey the key every call must present as {@code Bearer}
     * @param endpointId the one endpoint id served; others answer 404
     * @param latency how long one job runs (spread over its sampler steps)
     * @param workers jobs run at the same time
     * @param failRate share of jobs that fail in their sampler (a worker-comfyui execution error)
     * @param randomSeed seeds the fail-rate draws
     * @param videoOutputs whether the worker returns video nodes' files ({@code gifs}, {@code videos})
     *     with the images, as a customised worker does; stock worker-comfyui 5.x does not (it only
     *     prints "unhandled output keys" and ends {@code success_no_images} when nothing else was saved)
     * @param s3Outputs false for base64 outputs; true when the worker runs with
     *     {@code BUCKET_ENDPOINT_URL} set and uploads every file, answering {@code type: "s3_url"}
     *     entries whose presigned URLs the emulator itself serves (its "bucket")
     * @param webhookAttempts deliveries per webhook (RunPod: 1 + 2 retries)
     * @param webhookRetryDelay pause between deliveries (RunPod: 10 s)
     * @param resultRetention how long a finished {@code /run} job stays readable (RunPod: 30 min)
     * @param inventory the model files and custom nodes baked into the worker image: its ComfyUI
     *     refuses anything else, which the worker reports as "Workflow validation failed"
     */
    public record Config(int port, String apiKey, String endpointId, Duration latency, int workers, double failRate, long randomSeed,
                         boolean videoOutputs, int webhookAttempts, Duration webhookRetryDelay, Duration resultRetention,
                         boolean s3Outputs, ComfyInventory inventory) {
        public Config {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port: " + port);
            if (apiKey == null || apiKey.isBlank()) throw new IllegalArgumentException("apiKey is required");
            if (endpointId == null || !endpointId.matches("[A-Za-z0-9_-]+")) throw new IllegalArgumentException("endpointId: " + endpointId);
            if (latency == null || latency.isNegative()) throw new IllegalArgumentException("latency: " + latency);
            if (workers < 1 || webhookAttempts < 1) throw new IllegalArgumentException("workers and webhookAttempts must be positive");
            if (!(failRate >= 0 && failRate <= 1)) throw new IllegalArgumentException("failRate must be 0..1");
            if (inventory == null) throw new IllegalArgumentException("inventory is required");
        }

        /** Any free port, instant jobs, 4 workers, stock retries, the stock worker (no video files, base64 outputs). */
        public static Config defaults(String apiKey, String endpointId) {
            return new Config(0, apiKey, endpointId, Duration.ZERO, 4, 0, 1, false, 3, Duration.ofSeconds(10), Duration.ofMinutes(30), false,
                    ComfyInventory.sandbox());
        }

        public Config withPort(int p) { return new Config(p, apiKey, endpointId, latency, workers, failRate, randomSeed, videoOutputs, webhookAttempts, webhookRetryDelay, resultRetention, s3Outputs, inventory); }
        public Config withLatency(Duration d) { return new Config(port, apiKey, endpointId, d, workers, failRate, randomSeed, videoOutputs, webhookAttempts, webhookRetryDelay, resultRetention, s3Outputs, inventory); }
        public Config withWorkers(int n) { return new Config(port, apiKey, endpointId, latency, n, failRate, randomSeed, videoOutputs, webhookAttempts, webhookRetryDelay, resultRetention, s3Outputs, inventory); }
        public Config withFailRate(double r) { return new Config(port, apiKey, endpointId, latency, workers, r, randomSeed, videoOutputs, webhookAttempts, webhookRetryDelay, resultRetention, s3Outputs, inventory); }
        public Config withVideoOutputs(boolean v) { return new Config(port, apiKey, endpointId, latency, workers, failRate, randomSeed, v, webhookAttempts, webhookRetryDelay, resultRetention, s3Outputs, inventory); }
        /** Outputs uploaded to the emulator's bucket ({@code BUCKET_ENDPOINT_URL} set) and answered as {@code s3_url}. */
        public Config withS3Outputs(boolean v) { return new Config(port, apiKey, endpointId, latency, workers, failRate, randomSeed, videoOutputs, webhookAttempts, webhookRetryDelay, resultRetention, v, inventory); }
        public Config withInventory(ComfyInventory i) { return new Config(port, apiKey, endpointId, latency, workers, failRate, randomSeed, videoOutputs, webhookAttempts, webhookRetryDelay, resultRetention, s3Outputs, i); }
        /** More files in one model folder of the worker image. */
        public Config withModels(String folder, String... files) { return withInventory(inventory.withModels(folder, files)); }
        /** More custom node classes in the worker image. */
        public Config withCustomNodes(String... classTypes) { return withInventory(inventory.withCustomNodes(classTypes)); }
        public Config withWebhookRetries(int attempts, Duration delay) { return new Config(port, apiKey, endpointId, latency, workers, failRate, randomSeed, videoOutputs, attempts, delay, resultRetention, s3Outputs, inventory); }
    }

    /** One accepted job, as a test sees it. */
    public record Submission(String id, JsonNode input, String webhook, JsonNode policy, Instant at) {}

    private static final class Job {
        final String id;
        final JsonNode input;
        final String webhook;
        final long executionTimeout;
        final long ttl;
        final Instant submitted = Instant.now();
        final boolean sync;
        final boolean never;
        final String failure;
        final boolean failInSampler;
        volatile String status = "IN_QUEUE";
        volatile Instant started;
        volatile Instant finished;
        volatile JsonNode output;
        volatile String error;
        volatile boolean cancelled;

        Job(String id, JsonNode input, String webhook, long executionTimeout, long ttl, boolean sync, boolean never, String failure,
            boolean failInSampler) {
            this.id = id;
            this.input = input;
            this.webhook = webhook;
            this.executionTimeout = executionTimeout;
            this.ttl = ttl;
            this.sync = sync;
            this.never = never;
            this.failure = failure;
            this.failInSampler = failInSampler;
        }

        boolean terminal() {
            return switch (status) {
                case "COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT" -> true;
                default -> false;
            };
        }
    }


    /** Stops the graph run when the job is cancelled or over its execution timeout. */
    private static ComfyMachine.Interrupted stop() {
        return new ComfyMachine.Interrupted("?", "?");
    }

    private final Config config;
    private final RunPodFaults faults = new RunPodFaults();
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient webhookClient;
    private final String baseUrl;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final LinkedBlockingDeque<Job> queue = new LinkedBlockingDeque<>();
    private final List<Submission> submissions = new CopyOnWriteArrayList<>();
    private final List<String> cancels = new CopyOnWriteArrayList<>();
    private final AtomicInteger webhooksSent = new AtomicInteger();
    private final AtomicInteger completed = new AtomicInteger(), failed = new AtomicInteger(), retried = new AtomicInteger();
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final SplittableRandom random;
    private final List<Thread> workers = new ArrayList<>();
    private final java.util.ArrayDeque<Map.Entry<String, Long>> finishedOrder = new java.util.ArrayDeque<>();
    private long resultChars;
    /** The "bucket" of a worker with BUCKET_ENDPOINT_URL set: object key → bytes. */
    private final dev.kiln.emulator.support.BlobCache bucket = new dev.kiln.emulator.support.BlobCache(256L * 1024 * 1024);

    private RunPodEmulator(Config config) throws IOException {
        this.config = config;
        this.random = new SplittableRandom(config.randomSeed());
        this.server = EmulatorHttp.loopbackServer(config.port(), executor, this::handle);
        this.baseUrl = EmulatorHttp.baseUrl(server);
        this.webhookClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .executor(executor).build();
    }

    /** Starts an emulator; close it when done. */
    public static RunPodEmulator start(Config config) {
        try {
            RunPodEmulator e = new RunPodEmulator(config);
            e.server.start();
            for (int i = 0; i < config.workers(); i++) e.workers.add(Thread.ofVirtual().name("runpod-emulator-worker-" + i).start(e::work));
            return e;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the RunPod emulator on port " + config.port(), e);
        }
    }

    /** The API base, e.g. {@code http://127.0.0.1:43121/v2} (RunPod's {@code https://api.runpod.ai/v2}). */
    public String baseUrl() {
        return baseUrl + "/v2";
    }

    public String endpointId() {
        return config.endpointId();
    }

    public Config config() {
        return config;
    }

    public RunPodFaults faults() {
        return faults;
    }

    public List<Submission> submissions() {
        return List.copyOf(submissions);
    }

    /** Job ids named by {@code POST /cancel/{id}}. */
    public List<String> cancels() {
        return List.copyOf(cancels);
    }

    /** Webhook deliveries attempted so far. */
    public int webhooksSent() {
        return webhooksSent.get();
    }

    /** A job's status, or null when unknown or expired. */
    public String status(String id) {
        Job j = live(id);
        return j == null ? null : j.status;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        workers.forEach(Thread::interrupt);
        jobs.values().forEach(j -> j.cancelled = true);
        server.stop(0);
        executor.shutdownNow();
        webhookClient.close();
    }

    // ---- workers

    private void work() {
        while (!closed.get()) {
            Job j;
            try {
                j = queue.pollFirst(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (j == null || j.cancelled) continue;
            busy.incrementAndGet();
            try {
                run(j);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "RunPod emulator failed on job " + j.id, e);
                finish(j, "FAILED", null, "An unexpected error occurred: " + e);
            } finally {
                busy.decrementAndGet();
            }
        }
    }

    private void run(Job j) {
        j.started = Instant.now();
        j.status = "IN_PROGRESS";
        if (j.failure != null) {
            finish(j, "FAILED", null, j.failure);
            return;
        }
        long perStep = config.latency().toNanos();
        JsonNode workflow = j.input.path("workflow");
        if (workflow.isObject()) perStep /= ComfyMachine.totalSteps(ComfyGraph.of(workflow));
        long stepNanos = perStep;
        boolean[] stepped = {false};
        ComfyMachine.Listener listener = new ComfyMachine.Listener() {
            @Override
            public void executing(String nodeId, String classType) {
                check(j);
                if (j.failInSampler && classType.startsWith("KSampler")) {
                    throw new ComfyMachine.ExecutionError(nodeId, classType, "torch.OutOfMemoryError",
                            "Allocation on device 0 would exceed allowed memory. (out of memory)");
                }
            }

            @Override
            public void progress(String nodeId, int value, int max) {
                stepped[0] = true;
                pause(j, stepNanos);
                while (j.never) pause(j, TimeUnit.MILLISECONDS.toNanos(20));
            }
        };
        ObjectNode result;
        try {
            result = WorkerComfyUi.handle(j.id, j.input, config.inventory(), config.videoOutputs(), config.s3Outputs() ? this::upload : null, listener);
            if (!stepped[0]) pause(j, config.latency().toNanos());
            while (j.never) pause(j, TimeUnit.MILLISECONDS.toNanos(20));
        } catch (ComfyMachine.Interrupted s) {
            if (j.cancelled) return; // cancel already set the status
            finish(j, "TIMED_OUT", null, null);
            return;
        }
        // runpod-python: the handler's "error" becomes the job's error, the other keys its output.
        if (result.has("error")) {
            String error = result.get("error").asString();
            result.remove("error");
            finish(j, "FAILED", result.isEmpty() ? null : result, error);
        } else {
            finish(j, "COMPLETED", result, null);
        }
    }

    private void check(Job j) {
        if (j.cancelled || closed.get()) throw stop();
        if (j.started != null && Duration.between(j.started, Instant.now()).toMillis() > j.executionTimeout) throw stop();
    }

    private void pause(Job j, long nanos) {
        long end = System.nanoTime() + Math.max(0, nanos);
        do {
            check(j);
            long left = end - System.nanoTime();
            if (left <= 0) return;
            try {
                Thread.sleep(Duration.ofNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(20))));
            } catch (InterruptedException e) {
                throw stop();
            }
        } while (true);
    }

    private void finish(Job j, String status, JsonNode output, String error) {
        synchronized (j) {
            if (j.terminal()) return;
            j.output = output;
            j.error = error;
            j.finished = Instant.now();
            j.status = status;
        }
        remember(j);
        if (status.equals("COMPLETED")) completed.incrementAndGet();
        else if (!status.equals("CANCELLED")) failed.incrementAndGet();
        if (j.webhook != null && !j.sync && !status.equals("CANCELLED")) executor.execute(() -> deliver(j));
    }

    /** Keeps finished results within {@link #MAX_RESULT_CHARS}, forgetting the oldest first; also drops expired jobs. */
    private void remember(Job j) {
        long size = j.output == null ? 0 : j.output.toString().length();
        synchronized (finishedOrder) {
            finishedOrder.addLast(Map.entry(j.id, size));
            resultChars += size;
            while (resultChars > MAX_RESULT_CHARS && finishedOrder.size() > 1) {
                Map.Entry<String, Long> old = finishedOrder.pollFirst();
                resultChars -= old.getValue();
                jobs.remove(old.getKey());
            }
            if (finishedOrder.size() % 256 == 0) jobs.keySet().forEach(this::live);
        }
    }

    // ---- webhooks

    private void deliver(Job j) {
        if (faults.takeWebhookDropped()) return;
        int copies = faults.takeWebhookDuplicated() ? 2 : 1;
        boolean stale = faults.takeWebhookOutOfOrder();
        byte[] body = Json.MAPPER.writeValueAsBytes(statusJson(j));
        for (int i = 0; i < copies; i++) post(j.webhook, body);
        if (stale) {
            ObjectNode old = Json.object();
            old.put("id", j.id);
            old.put("status", "IN_PROGRESS");
            post(j.webhook, Json.MAPPER.writeValueAsBytes(old));
        }
    }

    private void post(String url, byte[] body) {
        for (int attempt = 1; attempt <= config.webhookAttempts() && !closed.get(); attempt++) {
            webhooksSent.incrementAndGet();
            try {
                HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
                if (webhookClient.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
            } catch (IOException | IllegalArgumentException e) {
                LOG.log(System.Logger.Level.DEBUG, "RunPod webhook to {0} failed: {1}", url, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            try {
                if (attempt < config.webhookAttempts()) Thread.sleep(config.webhookRetryDelay());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    // ---- HTTP

    private static final class Answer extends RuntimeException {
        final int status;
        final String body;

        Answer(int status, String error) {
            super(null, null, false, false);
            this.status = status;
            ObjectNode o = Json.object();
            o.put("error", error);
            this.body = Json.write(o);
        }
    }

    private void handle(HttpExchange ex) {
        try {
            Duration d = faults.takeDelay();
            if (d != null) Thread.sleep(d);
            route(ex);
        } catch (Answer a) {
            sendQuietly(ex, a.status, a.body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "RunPod emulator failed on " + ex.getRequestURI(), e);
            sendQuietly(ex, 500, "{\"error\":\"internal error\"}");
        } finally {
            ex.close();
        }
    }

    /**
     * rp_upload.upload_image: the object goes to bucket {@code %m-%y} under {@code {job id}/{8 hex}{ext}},
     * and the answer is a presigned GET URL valid for 7 days (served here under {@code /s3/}).
     */
    private String upload(String jobId, String filename, byte[] bytes) {
        int dot = filename.lastIndexOf('.');
        String key = java.time.format.DateTimeFormatter.ofPattern("MM-yy").format(java.time.LocalDate.now()) + "/" + jobId + "/"
                + java.util.UUID.randomUUID().toString().substring(0, 8) + (dot < 0 ? "" : filename.substring(dot));
        bucket.put(key, new dev.kiln.emulator.support.BlobCache.Blob(bytes, mimeOf(filename), filename));
        return baseUrl + "/s3/" + key + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature="
                + dev.kiln.emulator.support.Tokens.secret();
    }

    private static String mimeOf(String filename) {
        String f = filename.toLowerCase(java.util.Locale.ROOT);
        if (f.endsWith(".png")) return "image/png";
        if (f.endsWith(".jpg") || f.endsWith(".jpeg")) return "image/jpeg";
        if (f.endsWith(".webp")) return "image/webp";
        if (f.endsWith(".gif")) return "image/gif";
        if (f.endsWith(".mp4")) return "video/mp4";
        if (f.endsWith(".webm")) return "video/webm";
        return "binary/octet-stream";
    }

    private void route(HttpExchange ex) throws IOException, InterruptedException {
        String path = ex.getRequestURI().getPath();
        if (path.startsWith("/s3/") && ex.getRequestMethod().equals("GET")) {
            // The presigned URL carries its own authorisation: no Bearer key.
            dev.kiln.emulator.support.BlobCache.Blob b = bucket.get(path.substring("/s3/".length()));
            if (b == null || ex.getRequestURI().getQuery() == null || !ex.getRequestURI().getQuery().contains("X-Amz-Signature=")) {
                EmulatorHttp.send(ex, 404, "application/xml", "<Error><Code>NoSuchKey</Code></Error>".getBytes(StandardCharsets.UTF_8), Map.of());
            } else {
                EmulatorHttp.send(ex, 200, b.contentType(), b.bytes(), Map.of());
            }
            return;
        }
        String[] seg = path.split("/");
        // "", "v2", endpoint, op, [id]
        if (seg.length < 4 || !seg[1].equals("v2")) throw new Answer(404, "not found");
        if (!authorized(ex)) throw new Answer(401, "Unauthorized");
        if (!seg[2].equals(config.endpointId())) throw new Answer(404, "endpoint " + seg[2] + " not found");
        String method = ex.getRequestMethod();
        String op = seg[3];
        String id = seg.length > 4 ? seg[4] : null;
        switch (op) {
            case "run" -> { requireMethod(method, "POST"); run(ex, false); }
            case "runsync" -> { requireMethod(method, "POST"); run(ex, true); }
            case "status" -> { requireMethod(method, "GET"); status(ex, id); }
            case "cancel" -> { requireMethod(method, "POST"); cancel(ex, id); }
            case "retry" -> { requireMethod(method, "POST"); retry(ex, id); }
            case "purge-queue" -> {
                requireMethod(method, "POST");
                int n = 0;
                for (Job j; (j = queue.pollFirst()) != null; n++) {
                    j.cancelled = true;
                    finish(j, "CANCELLED", null, null);
                }
                send(ex, 200, "{\"removed\":" + n + ",\"status\":\"completed\"}");
            }
            case "health" -> { requireMethod(method, "GET"); health(ex); }
            default -> throw new Answer(404, "not found");
        }
    }

    private boolean authorized(HttpExchange ex) {
        String h = ex.getRequestHeaders().getFirst("Authorization");
        byte[] expected = ("Bearer " + config.apiKey()).getBytes(StandardCharsets.UTF_8);
        return h != null && MessageDigest.isEqual(h.getBytes(StandardCharsets.UTF_8), expected);
    }

    private static void requireMethod(String method, String wanted) {
        if (!method.equals(wanted)) throw new Answer(405, "method " + method + " not allowed");
    }

    private void run(HttpExchange ex, boolean sync) throws IOException, InterruptedException {
        int limit = sync ? RUNSYNC_LIMIT : RUN_LIMIT;
        byte[] raw;
        try (InputStream in = ex.getRequestBody()) {
            raw = in.readNBytes(limit + 1);
            if (raw.length > limit) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
                throw new Answer(413, "request body exceeds the " + (limit / 1_000_000) + " MB limit of /" + (sync ? "runsync" : "run"));
            }
        }
        if (faults.takeRunRateLimited()) {
            Duration ra = faults.retryAfter();
            if (ra != null) ex.getResponseHeaders().set("Retry-After", Long.toString((ra.toMillis() + 999) / 1000));
            throw new Answer(429, "rate limit exceeded");
        }
        if (faults.takeRunServerError()) throw new Answer(500, "internal server error");
        JsonNode body;
        try {
            body = Json.MAPPER.readTree(raw);
        } catch (JacksonException e) {
            throw new Answer(400, "invalid JSON body");
        }
        if (body == null || !body.isObject()) throw new Answer(400, "body must be a JSON object");
        if (!body.has("input")) throw new Answer(400, "input is required");
        JsonNode policy = body.path("policy");
        long execution = policyValue(policy, "executionTimeout", DEFAULT_EXECUTION_TIMEOUT, MIN_EXECUTION_TIMEOUT);
        long ttl = policyValue(policy, "ttl", DEFAULT_TTL, 10_000);
        String webhook = body.path("webhook").asString(null);
        if (webhook != null && !(webhook.startsWith("http://") || webhook.startsWith("https://"))) throw new Answer(400, "invalid webhook URL");
        String failure = faults.takeJobFailure();
        boolean failInSampler = false;
        if (failure == null && config.failRate() > 0) {
            synchronized (random) {
                failInSampler = random.nextDouble() < config.failRate();
            }
        }
        String id = (sync ? "sync-" : "") + UUID.randomUUID() + "-u1";
        Job j = new Job(id, body.get("input"), webhook, execution, ttl, sync, faults.takeNeverComplete(), failure, failInSampler);
        jobs.put(id, j);
        submissions.add(new Submission(id, body.get("input"), webhook, policy.isMissingNode() ? null : policy, j.submitted));
        queue.addLast(j);
        if (faults.takeRunMalformed()) {
            send(ex, 200, "<html><head><title>502 Bad Gateway</title></head></html>");
            return;
        }
        if (!sync) {
            send(ex, 200, "{\"id\":\"" + id + "\",\"status\":\"IN_QUEUE\"}");
            return;
        }
        long wait = 90_000;
        String q = ex.getRequestURI().getQuery();
        if (q != null && q.matches(".*(^|&)wait=\\d+.*")) wait = Long.parseLong(q.replaceAll(".*(?:^|&)wait=(\\d+).*", "$1"));
        wait = Math.max(1000, Math.min(300_000, wait));
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait);
        while (!j.terminal() && System.nanoTime() < end) Thread.sleep(10);
        send(ex, 200, Json.write(statusJson(j)));
    }

    private static long policyValue(JsonNode policy, String field, long dflt, long min) {
        JsonNode v = policy.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > MAX_POLICY) {
            throw new Answer(400, "policy." + field + " must be an integer from " + min + " to " + MAX_POLICY + " ms");
        }
        return v.asLong();
    }

    private void status(HttpExchange ex, String id) throws IOException {
        if (faults.takeStatusRateLimited()) throw new Answer(429, "rate limit exceeded");
        if (faults.takeStatusServerError()) {
            send(ex, 502, "<html><body>502 Bad Gateway</body></html>");
            return;
        }
        Job j = id == null ? null : live(id);
        if (j == null) throw new Answer(404, "job " + id + " not found");
        if (faults.takeStatusMalformed()) {
            send(ex, 200, "{\"id\":\"" + j.id + "\",\"status\":");
            return;
        }
        send(ex, 200, Json.write(statusJson(j)));
    }

    private void cancel(HttpExchange ex, String id) throws IOException {
        Job j = id == null ? null : live(id);
        if (j == null) throw new Answer(404, "job " + id + " not found");
        cancels.add(id);
        if (!j.terminal()) {
            j.cancelled = true;
            queue.remove(j);
            finish(j, "CANCELLED", null, null);
        }
        send(ex, 200, "{\"id\":\"" + j.id + "\",\"status\":\"" + j.status + "\"}");
    }

    private void retry(HttpExchange ex, String id) throws IOException {
        Job j = id == null ? null : live(id);
        if (j == null) throw new Answer(404, "job " + id + " not found");
        if (!j.status.equals("FAILED") && !j.status.equals("TIMED_OUT")) throw new Answer(400, "only FAILED or TIMED_OUT jobs can be retried");
        Job again = new Job(j.id, j.input, j.webhook, j.executionTimeout, j.ttl, false, false, null, false);
        jobs.put(j.id, again);
        queue.addLast(again);
        retried.incrementAndGet();
        send(ex, 200, "{\"id\":\"" + j.id + "\",\"status\":\"IN_QUEUE\"}");
    }

    private void health(HttpExchange ex) throws IOException {
        ObjectNode o = Json.object();
        ObjectNode jobsNode = o.putObject("jobs");
        jobsNode.put("completed", completed.get());
        jobsNode.put("failed", failed.get());
        jobsNode.put("inProgress", busy.get());
        jobsNode.put("inQueue", queue.size());
        jobsNode.put("retried", retried.get());
        ObjectNode w = o.putObject("workers");
        w.put("idle", config.workers() - busy.get());
        w.put("running", busy.get());
        send(ex, 200, Json.write(o));
    }

    /** A job within its TTL and, once finished, its retention; expired ones are forgotten (404). */
    private Job live(String id) {
        Job j = jobs.get(id);
        if (j == null) return null;
        Instant now = Instant.now();
        Duration keep = j.sync ? Duration.ofMinutes(1) : config.resultRetention();
        boolean expired = j.submitted.plusMillis(j.ttl).isBefore(now) || (j.finished != null && j.finished.plus(keep).isBefore(now));
        if (expired) {
            j.cancelled = true;
            jobs.remove(id);
            return null;
        }
        return j;
    }

    private static ObjectNode statusJson(Job j) {
        ObjectNode o = Json.object();
        o.put("id", j.id);
        o.put("status", j.status);
        Instant started = j.started;
        if (started != null) {
            o.put("delayTime", Duration.between(j.submitted, started).toMillis());
            Instant end = j.finished != null ? j.finished : Instant.now();
            o.put("executionTime", Duration.between(started, end).toMillis());
            o.put("workerId", "sandbox-worker");
        }
        if (j.output != null) o.set("output", j.output);
        if (j.error != null) o.put("error", j.error);
        return o;
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", body.startsWith("<") ? "text/html" : "application/json");
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) ex.getResponseBody().write(b);
    }

    private static void sendQuietly(HttpExchange ex, int status, String body) {
        try {
            send(ex, status, body);
        } catch (IOException | RuntimeException ignored) {
            // the answer had started or the client left
        }
    }
}

package dev.kiln.emulator.runpodpods;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.emulator.comfy.ComfyInventory;
import dev.kiln.emulator.comfyui.ComfyUiEmulator;
import dev.kiln.emulator.http.EmulatorHttp;
import dev.kiln.emulator.support.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A local RunPod account for Pods (docs/PROVIDERS.md, "RunPod pods"): the REST API of
 * {@code https://rest.runpod.io/v1} as its OpenAPI document describes it (runpod/docs
 * {@code api-reference/openapi.json}): {@code GET|POST /pods}, {@code GET|DELETE /pods/{podId}},
 * {@code POST /pods/{podId}/start|stop|restart|reset}, {@code GET /templates}, {@code GET /networkvolumes},
 * {@code GET /networkvolumes/{networkVolumeId}}; and the two GraphQL queries REST has no
 * equivalent for, {@code gpuTypes} and {@code myself}, at {@code POST /graphql} (as
 * {@code https://api.runpod.io/graphql}; field names from runpod/runpod-python
 * {@code runpod/api/queries/gpus.py} and {@code user.py}). Bearer key on every call.
 *
 * <p>Each running pod is a ComfyUI emulator: it becomes reachable {@code startupDelay} after it is
 * created, started or restarted, and then shows {@code publicIp} and {@code portMappings} (which
 * map every exposed port to the ComfyUI emulator's loopback port, since a loopback server cannot
 * answer RunPod's per-pod {@code https://{podId}-{port}.proxy.runpod.net} host names). Running time
 * costs the GPU type's price per hour ({@link #spent()}). {@link #kill} makes a pod's container die
 * (test hook); {@link #available} sets how many pods of a GPU type can still be placed.
 */
public final class RunPodPodsEmulator implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RunPodPodsEmulator.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();
    /** RunPod's answer when no machine has the GPU asked for (its console and API word it so). */
    static final String NO_INSTANCES = "There are no longer any instances available with the requested specifications. Please refresh and try again.";

    /** A GPU type as GraphQL {@code gpuTypes} lists it, with how many more pods of it can be placed. */
    public record GpuType(String id, String displayName, int memoryInGb, double securePrice, double communityPrice, int stock) {}

    /**
     * How the emulator behaves.
     *
     * @param port TCP port on 127.0.0.1, 0 for any free one
     * @param apiKey the key every call must present as {@code Bearer}
     * @param startupDelay how long a pod takes from create/start/restart until its ComfyUI answers
     * @param latency how long one prompt runs on a pod's ComfyUI
     * @param inventory the model files and custom nodes the pods' image has
     * @param gpuTypes the GPU types offered, with their prices and stock
     * @param balance the account's {@code clientBalance} in dollars
     */
    public record Config(int port, String apiKey, Duration startupDelay, Duration latency, ComfyInventory inventory,
                         List<GpuType> gpuTypes, double balance) {
        public Config {
            if (apiKey == null || apiKey.isBlank()) throw new IllegalArgumentException("apiKey is required");
            if (startupDelay == null || startupDelay.isNegative()) throw new IllegalArgumentException("startupDelay: " + startupDelay);
            if (latency == null || latency.isNegative()) throw new IllegalArgumentException("latency: " + latency);
            gpuTypes = List.copyOf(gpuTypes);
        }

        /** Prices as RunPod's secure cloud listed them (per GPU hour); stock enough for any test. */
        public static Config defaults(String apiKey) {
            return new Config(0, apiKey, Duration.ofSeconds(2), Duration.ofSeconds(1), ComfyInventory.sandbox(), List.of(
                    new GpuType("NVIDIA GeForce RTX 4090", "RTX 4090", 24, 0.69, 0.34, 10),
                    new GpuType("NVIDIA GeForce RTX 3090", "RTX 3090", 24, 0.43, 0.22, 10),
                    new GpuType("NVIDIA RTX A5000", "RTX A5000", 24, 0.27, 0.16, 10),
                    new GpuType("NVIDIA L40S", "L40S", 48, 0.86, 0.79, 10),
                    new GpuType("NVIDIA H100 80GB HBM3", "H100 SXM", 80, 2.69, 2.39, 10)), 100.0);
        }

        public Config withPort(int p) { return new Config(p, apiKey, startupDelay, latency, inventory, gpuTypes, balance); }
        public Config withStartupDelay(Duration d) { return new Config(port, apiKey, d, latency, inventory, gpuTypes, balance); }
        public Config withLatency(Duration d) { return new Config(port, apiKey, startupDelay, d, inventory, gpuTypes, balance); }
        public Config withInventory(ComfyInventory i) { return new Config(port, apiKey, startupDelay, latency, i, gpuTypes, balance); }
    }

    /** One pod. Guarded by the emulator. */
    private static final class Pod {
        final String id;
        final ObjectNode spec;
        final GpuType gpu;
        final int gpuCount;
        final double costPerHr;
        final Instant createdAt = Instant.now();
        String desiredStatus = "RUNNING";
        String lastStatusChange;
        Instant lastStartedAt;
        Instant runningSince;
        double spent;
        long generation;
        ComfyUiEmulator comfy;

        Pod(String id, ObjectNode spec, GpuType gpu, int gpuCount, double costPerHr) {
            this.id = id;
            this.spec = spec;
            this.gpu = gpu;
            this.gpuCount = gpuCount;
            this.costPerHr = costPerHr;
        }
    }

    private final Config config;
    private final HttpServer server;
    private final String baseUrl;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, Pod> pods = new LinkedHashMap<>();
    private final Map<String, Integer> stock = new ConcurrentHashMap<>();
    private final List<ObjectNode> templates = new ArrayList<>();
    private final List<ObjectNode> volumes = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private double terminatedSpend;
    private int created;
    private volatile Duration startupDelay;

    private RunPodPodsEmulator(Config config) throws IOException {
        this.config = config;
        this.startupDelay = config.startupDelay();
        config.gpuTypes().forEach(g -> stock.put(g.id(), g.stock()));
        this.server = EmulatorHttp.loopbackServer(config.port(), executor, this::handle);
        this.baseUrl = EmulatorHttp.baseUrl(server);
        ObjectNode t = Json.object();
        t.put("id", "runpod-comfy");
        t.put("name", "ComfyUI");
        t.put("category", "NVIDIA");
        t.put("imageName", "runpod/comfyui:latest");
        t.put("containerDiskInGb", 50);
        t.put("volumeInGb", 20);
        t.put("volumeMountPath", "/workspace");
        t.putArray("ports").add("8188/http").add("8888/http").add("22/tcp");
        t.putObject("env");
        t.putArray("dockerEntrypoint");
        t.putArray("dockerStartCmd");
        t.put("isPublic", true);
        t.put("isRunpod", true);
        t.put("isServerless", false);
        t.put("readme", "ComfyUI on port 8188");
        templates.add(t);
        ObjectNode v = Json.object();
        v.put("id", "agv6w2qcg7");
        v.put("name", "comfy-models");
        v.put("size", 100);
        v.put("dataCenterId", "EU-RO-1");
        volumes.add(v);
    }

    /** Starts an emulator; close it when done. */
    public static RunPodPodsEmulator start(Config config) {
        try {
            RunPodPodsEmulator e = new RunPodPodsEmulator(config);
            e.server.start();
            return e;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the RunPod pods emulator on port " + config.port(), e);
        }
    }

    /** The REST base, as {@code https://rest.runpod.io/v1}. */
    public String restUrl() {
        return baseUrl + "/v1";
    }

    /** The GraphQL URL, as {@code https://api.runpod.io/graphql}. */
    public String graphqlUrl() {
        return baseUrl + "/graphql";
    }

    public Config config() {
        return config;
    }

    /** Test hook: the pod's container dies (its ComfyUI stops answering at once); RunPod then shows it {@code EXITED}. */
    public synchronized boolean kill(String podId) {
        Pod p = pods.get(podId);
        if (p == null || p.comfy == null) return false;
        halt(p, "Exited: container stopped unexpectedly (exit code 137)");
        return true;
    }

    /** Test hook: how long pods started from now on take to become reachable. */
    public void startupDelay(Duration d) {
        if (d == null || d.isNegative()) throw new IllegalArgumentException("startupDelay: " + d);
        startupDelay = d;
    }

    /** Test hook: how many more pods of this GPU type can be placed. */
    public void available(String gpuTypeId, int n) {
        stock.put(gpuTypeId, n);
    }

    /** Dollars spent by every pod so far (running time × price). */
    public synchronized double spent() {
        double s = terminatedSpend;
        for (Pod p : pods.values()) s += spentOf(p);
        return s;
    }

    /** Pods created so far (terminated ones included). */
    public synchronized int created() {
        return created;
    }

    /** Ids of the pods that exist (not terminated), with their desired status. */
    public synchronized Map<String, String> pods() {
        Map<String, String> out = new LinkedHashMap<>();
        pods.forEach((id, p) -> out.put(id, p.desiredStatus));
        return out;
    }

    /** The ComfyUI emulator of a reachable pod, or null. */
    public synchronized ComfyUiEmulator comfy(String podId) {
        Pod p = pods.get(podId);
        return p == null ? null : p.comfy;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        server.stop(0);
        synchronized (this) {
            pods.values().forEach(p -> {
                if (p.comfy != null) p.comfy.close();
                p.comfy = null;
            });
        }
        executor.shutdownNow();
    }

    // ---- lifecycle

    private void boot(Pod p) {
        p.desiredStatus = "RUNNING";
        p.lastStartedAt = Instant.now();
        p.runningSince = Instant.now();
        p.lastStatusChange = "Rented by User: " + p.lastStartedAt;
        long gen = ++p.generation;
        Thread.ofVirtual().name("runpod-pod-boot-" + p.id).start(() -> {
            try {
                Thread.sleep(startupDelay);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                if (closed.get() || p.generation != gen || !"RUNNING".equals(p.desiredStatus) || !pods.containsKey(p.id)) return;
                // One prompt at a time per GPU, as ComfyUI runs them.
                p.comfy = ComfyUiEmulator.start(ComfyUiEmulator.Config.defaults().withWorkers(Math.max(1, p.gpuCount))
                        .withLatency(config.latency()).withInventory(config.inventory()));
            }
        });
    }

    private void halt(Pod p, String why) {
        if (p.runningSince != null) {
            p.spent += hours(p.runningSince) * p.costPerHr;
            p.runningSince = null;
        }
        p.generation++;
        if (p.comfy != null) {
            ComfyUiEmulator c = p.comfy;
            p.comfy = null;
            c.close();
        }
        p.desiredStatus = "EXITED";
        p.lastStatusChange = why;
    }

    private static double hours(Instant since) {
        return Duration.between(since, Instant.now()).toNanos() / 3.6e12;
    }

    private double spentOf(Pod p) {
        return p.spent + (p.runningSince == null ? 0 : hours(p.runningSince) * p.costPerHr);
    }

    // ---- HTTP

    /** An error answer; RunPod's REST API answers {@code {"error": …, "status": n}} (401: {@code {"message"}}, its UnauthorizedError). */
    private static final class Answer extends RuntimeException {
        final int status;
        final JsonNode body;

        Answer(int status, String message) {
            super(message, null, false, false);
            this.status = status;
            ObjectNode b = Json.object();
            if (status == 401) {
                b.put("message", message);
            } else {
                b.put("error", message);
                b.put("status", status);
            }
            this.body = b;
        }
    }

    private void handle(HttpExchange ex) {
        try {
            route(ex);
        } catch (Answer a) {
            EmulatorHttp.answerQuietly(ex, a.status, a.body);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "RunPod pods emulator failed on " + ex.getRequestURI(), e);
            EmulatorHttp.answerQuietly(ex, 500, new Answer(500, "internal error").body);
        } finally {
            ex.close();
        }
    }

    private boolean authorized(HttpExchange ex) {
        String h = ex.getRequestHeaders().getFirst("Authorization");
        if (h != null && h.equals("Bearer " + config.apiKey())) return true;
        // GraphQL also takes ?api_key= (docs.runpod.io, "Manage Pods" GraphQL examples).
        return config.apiKey().equals(EmulatorHttp.queryParam(ex, "api_key"));
    }

    private void route(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        if (!authorized(ex)) throw new Answer(401, "Unauthorized");
        if (path.equals("/graphql")) {
            if (!method.equals("POST")) throw new Answer(405, "method not allowed");
            graphql(ex);
            return;
        }
        String[] seg = path.split("/");
        // "", "v1", collection, [id], [action]
        if (seg.length < 3 || !seg[1].equals("v1")) throw new Answer(404, "not found");
        String collection = seg[2];
        String id = seg.length > 3 ? seg[3] : null;
        String action = seg.length > 4 ? seg[4] : null;
        switch (collection) {
            case "pods" -> pods(ex, method, id, action);
            case "templates" -> {
                if (id != null || !method.equals("GET")) throw new Answer(404, "not found");
                ArrayNode a = Json.MAPPER.createArrayNode();
                synchronized (this) {
                    templates.forEach(a::add);
                }
                EmulatorHttp.answer(ex, 200, a);
            }
            case "networkvolumes" -> {
                if (!method.equals("GET") || action != null) throw new Answer(404, "not found");
                synchronized (this) {
                    if (id == null) {
                        ArrayNode a = Json.MAPPER.createArrayNode();
                        volumes.forEach(a::add);
                        EmulatorHttp.answer(ex, 200, a);
                    } else {
                        ObjectNode v = volumes.stream().filter(x -> x.path("id").asString().equals(id)).findFirst()
                                .orElseThrow(() -> new Answer(404, "network volume not found"));
                        EmulatorHttp.answer(ex, 200, v);
                    }
                }
            }
            default -> throw new Answer(404, "not found");
        }
    }

    private void pods(HttpExchange ex, String method, String id, String action) throws IOException {
        if (id == null) {
            switch (method) {
                case "GET" -> {
                    ArrayNode a = Json.MAPPER.createArrayNode();
                    String status = EmulatorHttp.queryParam(ex, "desiredStatus");
                    String name = EmulatorHttp.queryParam(ex, "name");
                    synchronized (this) {
                        for (Pod p : pods.values()) {
                            if (status != null && !status.equals(p.desiredStatus)) continue;
                            if (name != null && !name.equals(p.spec.path("name").asString())) continue;
                            a.add(view(p));
                        }
                    }
                    EmulatorHttp.answer(ex, 200, a);
                }
                case "POST" -> {
                    ObjectNode body = EmulatorHttp.jsonObject(EmulatorHttp.readBody(ex, 1 << 20, new Answer(413, "too large").body));
                    if (body == null) throw new Answer(400, "request body must be a JSON object");
                    EmulatorHttp.answer(ex, 201, create(body));
                }
                default -> throw new Answer(405, "method not allowed");
            }
            return;
        }
        synchronized (this) {
            Pod p = pods.get(id);
            if (p == null) {
                // GET answers 404 "Pod not found."; the actions answer 400 "Invalid Pod ID." (openapi.json).
                if (method.equals("GET") && action == null) throw new Answer(404, "pod not found");
                throw new Answer(400, "invalid pod id: " + id);
            }
            if (action == null) {
                switch (method) {
                    case "GET" -> EmulatorHttp.answer(ex, 200, view(p));
                    case "DELETE" -> {
                        halt(p, "Terminated by User");
                        terminatedSpend += p.spent;
                        pods.remove(id);
                        stock.merge(p.gpu.id(), p.gpuCount, Integer::sum);
                        EmulatorHttp.send(ex, 204, "application/json", new byte[0], Map.of());
                    }
                    default -> throw new Answer(405, "method not allowed");
                }
                return;
            }
            if (!method.equals("POST")) throw new Answer(405, "method not allowed");
            switch (action) {
                case "start" -> {
                    if (!"RUNNING".equals(p.desiredStatus)) boot(p);
                }
                case "stop" -> {
                    if ("RUNNING".equals(p.desiredStatus)) halt(p, "Stopped by User");
                }
                case "restart", "reset" -> {
                    halt(p, "Restarted by User");
                    boot(p);
                }
                default -> throw new Answer(404, "not found");
            }
            EmulatorHttp.answer(ex, 200, view(p));
        }
    }

    private synchronized ObjectNode create(ObjectNode body) {
        List<String> gpuIds = new ArrayList<>();
        JsonNode ids = body.path("gpuTypeIds");
        if (!ids.isMissingNode() && !ids.isArray()) throw new Answer(400, "gpuTypeIds must be an array of strings");
        ids.forEach(n -> gpuIds.add(n.asString()));
        if (gpuIds.isEmpty()) gpuIds.add("NVIDIA GeForce RTX 4090");
        String image = body.path("imageName").asString("");
        String templateId = body.path("templateId").asString("");
        if (image.isBlank() && templateId.isBlank()) throw new Answer(400, "imageName or templateId is required");
        if (!templateId.isBlank() && templates.stream().noneMatch(t -> t.path("id").asString().equals(templateId))) {
            throw new Answer(400, "template " + templateId + " not found");
        }
        int gpuCount = body.path("gpuCount").asInt(1);
        if (gpuCount < 1 || gpuCount > 8) throw new Answer(400, "gpuCount must be 1..8");
        String cloudType = body.path("cloudType").asString("SECURE");
        if (!cloudType.equals("SECURE") && !cloudType.equals("COMMUNITY")) throw new Answer(400, "cloudType must be SECURE or COMMUNITY");
        GpuType chosen = null;
        for (String g : gpuIds) {
            GpuType t = config.gpuTypes().stream().filter(x -> x.id().equals(g)).findFirst()
                    .orElseThrow(() -> new Answer(400, "unknown gpuTypeId: " + g));
            if (chosen == null && stock.getOrDefault(t.id(), 0) >= gpuCount) chosen = t;
        }
        if (chosen == null) throw new Answer(500, NO_INSTANCES);
        stock.merge(chosen.id(), -gpuCount, Integer::sum);
        double price = (cloudType.equals("SECURE") ? chosen.securePrice() : chosen.communityPrice()) * gpuCount;
        String id = podId();
        Pod p = new Pod(id, body.deepCopy(), chosen, gpuCount, Math.round(price * 1000) / 1000.0);
        pods.put(id, p);
        created++;
        boot(p);
        return view(p);
    }

    private static String podId() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 14; i++) sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        return sb.toString();
    }

    /** The Pod object of openapi.json ({@code components.schemas.Pod}). */
    private ObjectNode view(Pod p) {
        ObjectNode o = Json.object();
        o.put("id", p.id);
        o.put("name", p.spec.path("name").asString("my pod"));
        o.put("image", p.spec.path("imageName").asString("runpod/comfyui:latest"));
        o.put("desiredStatus", p.desiredStatus);
        o.put("costPerHr", p.costPerHr);
        o.put("adjustedCostPerHr", p.costPerHr);
        o.put("containerDiskInGb", p.spec.path("containerDiskInGb").asInt(50));
        o.put("volumeInGb", p.spec.path("volumeInGb").asInt(20));
        o.put("volumeMountPath", p.spec.path("volumeMountPath").asString("/workspace"));
        o.put("memoryInGb", Math.max(p.spec.path("minRAMPerGPU").asInt(0), 31) * p.gpuCount);
        o.put("vcpuCount", Math.max(p.spec.path("minVCPUPerGPU").asInt(0), 8) * p.gpuCount);
        o.put("interruptible", p.spec.path("interruptible").asBoolean(false));
        o.put("locked", false);
        o.put("machineId", "s194cr8pls2z");
        ObjectNode gpu = o.putObject("gpu");
        gpu.put("id", p.gpu.id());
        gpu.put("count", p.gpuCount);
        gpu.put("displayName", p.gpu.displayName());
        gpu.put("securePrice", p.gpu.securePrice());
        gpu.put("communityPrice", p.gpu.communityPrice());
        JsonNode ports = p.spec.path("ports");
        ArrayNode portList = o.putArray("ports");
        if (ports.isArray()) ports.forEach(portList::add);
        else portList.add("8888/http").add("22/tcp");
        o.set("env", p.spec.path("env").isObject() ? p.spec.get("env") : Json.object());
        if (p.spec.hasNonNull("templateId")) o.put("templateId", p.spec.get("templateId").asString());
        if (p.spec.hasNonNull("networkVolumeId")) o.put("networkVolumeId", p.spec.get("networkVolumeId").asString());
        if (p.lastStartedAt != null) o.put("lastStartedAt", p.lastStartedAt.toString());
        if (p.lastStatusChange != null) o.put("lastStatusChange", p.lastStatusChange);
        if (p.comfy != null) {
            int port = Integer.parseInt(p.comfy.baseUrl().substring(p.comfy.baseUrl().lastIndexOf(':') + 1));
            o.put("publicIp", "127.0.0.1");
            ObjectNode map = o.putObject("portMappings");
            for (JsonNode n : portList) map.put(n.asString().split("/")[0], port);
        } else {
            o.putNull("publicIp");
            o.putObject("portMappings");
        }
        return o;
    }

    // ---- GraphQL

    private void graphql(HttpExchange ex) throws IOException {
        ObjectNode body = EmulatorHttp.jsonObject(EmulatorHttp.readBody(ex, 1 << 20, new Answer(413, "too large").body));
        String query = body == null ? "" : body.path("query").asString("");
        ObjectNode out = Json.object();
        ObjectNode data = Json.object();
        if (query.contains("gpuTypes")) {
            ArrayNode a = data.putArray("gpuTypes");
            for (GpuType g : config.gpuTypes()) {
                ObjectNode o = a.addObject();
                o.put("id", g.id());
                o.put("displayName", g.displayName());
                o.put("memoryInGb", g.memoryInGb());
                o.put("manufacturer", "Nvidia");
                o.put("maxGpuCount", 8);
                o.put("secureCloud", true);
                o.put("communityCloud", true);
                o.put("securePrice", g.securePrice());
                o.put("communityPrice", g.communityPrice());
                ObjectNode lowest = o.putObject("lowestPrice");
                lowest.put("minimumBidPrice", Math.round(g.communityPrice() * 600) / 1000.0);
                lowest.put("uninterruptablePrice", g.communityPrice());
                lowest.put("stockStatus", stock.getOrDefault(g.id(), 0) > 0 ? "High" : null);
            }
        }
        if (query.contains("myself")) {
            ObjectNode me = data.putObject("myself");
            me.put("id", "user_sandbox");
            me.put("email", "sandbox@example.invalid");
            double spend;
            synchronized (this) {
                spend = pods.values().stream().filter(p -> p.runningSince != null).mapToDouble(p -> p.costPerHr).sum();
                me.put("clientBalance", Math.round((config.balance() - spent()) * 10000) / 10000.0);
            }
            me.put("currentSpendPerHr", Math.round(spend * 1000) / 1000.0);
            me.put("spendLimit", 80);
            me.put("pubKey", "");
            ArrayNode vols = me.putArray("networkVolumes");
            synchronized (this) {
                volumes.forEach(vols::add);
            }
        }
        if (data.isEmpty()) {
            ObjectNode err = out.putArray("errors").addObject();
            err.put("message", "the sandbox answers only the gpuTypes and myself queries");
            EmulatorHttp.answer(ex, 400, out);
            return;
        }
        out.set("data", data);
        EmulatorHttp.answer(ex, 200, out);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "RunPodPodsEmulator[%s, %d pods]", baseUrl, pods.size());
    }
}

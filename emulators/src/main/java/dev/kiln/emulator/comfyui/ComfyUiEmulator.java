package dev.kiln.emulator.comfyui;

import dev.kiln.emulator.comfy.ComfyFolders;
import dev.kiln.emulator.http.Multipart;
import dev.kiln.emulator.comfy.ComfyGraph;
import dev.kiln.emulator.comfy.ComfyInventory;
import dev.kiln.emulator.comfy.ComfyMachine;
import dev.kiln.emulator.support.Json;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.Session;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpointConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.websocket.server.WsSci;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A local ComfyUI server (docs/PROVIDERS.md, "ComfyUI"): the HTTP API ({@code /prompt},
 * {@code /queue}, {@code /interrupt}, {@code /history}, {@code /view}, {@code /upload/image},
 * {@code /system_stats}, {@code /object_info}, each also under {@code /api}) and the {@code /ws}
 * websocket with ComfyUI's messages, on an embedded Tomcat bound to 127.0.0.1 (Tomcat's JSR-356
 * websocket support, already on the classpath). Prompts are validated and run by the sandbox graph
 * machine ({@link ComfyMachine}); {@code workers} prompts run at once (ComfyUI itself runs one).
 */
public final class ComfyUiEmulator implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ComfyUiEmulator.class.getName());
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    private static final int MAX_JSON = 32 * 1024 * 1024;
    private static final int MAX_UPLOAD = 64 * 1024 * 1024;

    /**
     * How the emulator behaves.
     *
     * @param port TCP port on 127.0.0.1, 0 for any free one
     * @param latency how long one prompt runs (spread over its sampler steps)
     * @param workers prompts run at the same time
     * @param failRate share of prompts that fail in their sampler with an execution error
     * @param randomSeed seeds the fail-rate draws
     * @param maxHistory history entries kept (ComfyUI keeps 10000)
     * @param storageBytes memory for output files; the oldest are dropped past it
     * @param legacyServer behave as ComfyUI before prompt ids could be chosen and interrupts
     *     targeted (server.py then: {@code prompt_id = str(uuid.uuid4())} whatever the body says, and
     *     {@code POST /interrupt} stops whatever is running)
     * @param workDir where the embedded Tomcat keeps its work files (removed again at close); null
     *     for a fresh folder in the system temp directory, also removed at close
     * @param inventory the model files and custom nodes installed: {@code /object_info} lists them and
     *     {@code /prompt} refuses anything else ({@code missing_node_type}, {@code value_not_in_list})
     */
    public record Config(int port, Duration latency, int workers, double failRate, long randomSeed, int maxHistory, long storageBytes,
                         boolean legacyServer, java.nio.file.Path workDir, ComfyInventory inventory) {
        public Config {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port: " + port);
            if (latency == null || latency.isNegative()) throw new IllegalArgumentException("latency: " + latency);
            if (workers < 1) throw new IllegalArgumentException("workers must be positive");
            if (!(failRate >= 0 && failRate <= 1)) throw new IllegalArgumentException("failRate must be 0..1");
            if (maxHistory < 1 || storageBytes < 1) throw new IllegalArgumentException("maxHistory and storageBytes must be positive");
            if (inventory == null) throw new IllegalArgumentException("inventory is required");
        }

        /** Any free port, instant prompts, one worker (as ComfyUI), no failures, what the shipped catalogue needs installed. */
        public static Config defaults() {
            return new Config(0, Duration.ZERO, 1, 0, 1, 10_000, 256L * 1024 * 1024, false, null, ComfyInventory.sandbox());
        }

        public Config withPort(int p) { return new Config(p, latency, workers, failRate, randomSeed, maxHistory, storageBytes, legacyServer, workDir, inventory); }
        public Config withLatency(Duration d) { return new Config(port, d, workers, failRate, randomSeed, maxHistory, storageBytes, legacyServer, workDir, inventory); }
        public Config withWorkers(int n) { return new Config(port, latency, n, failRate, randomSeed, maxHistory, storageBytes, legacyServer, workDir, inventory); }
        public Config withFailRate(double r) { return new Config(port, latency, workers, r, randomSeed, maxHistory, storageBytes, legacyServer, workDir, inventory); }
        public Config withLegacyServer(boolean v) { return new Config(port, latency, workers, failRate, randomSeed, maxHistory, storageBytes, v, workDir, inventory); }
        public Config withWorkDir(java.nio.file.Path d) { return new Config(port, latency, workers, failRate, randomSeed, maxHistory, storageBytes, legacyServer, d, inventory); }
        public Config withInventory(ComfyInventory i) { return new Config(port, latency, workers, failRate, randomSeed, maxHistory, storageBytes, legacyServer, workDir, i); }
        /** More files in one model folder ({@code checkpoints}, {@code loras}, …). */
        public Config withModels(String folder, String... files) { return withInventory(inventory.withModels(folder, files)); }
        /** More custom node classes installed. */
        public Config withCustomNodes(String... classTypes) { return withInventory(inventory.withCustomNodes(classTypes)); }
    }

    /** One queued prompt, as a test sees it. */
    public record Submission(String promptId, String clientId, JsonNode prompt, Instant at) {}

    private final Config config;
    private final ComfyUiFaults faults = new ComfyUiFaults();
    private final ComfyFolders folders;
    private final Tomcat tomcat;
    private final String baseUrl;
    private final LinkedBlockingDeque<Job> pending = new LinkedBlockingDeque<>();
    private final Map<String, Job> running = new ConcurrentHashMap<>();
    private final Map<String, ObjectNode> history = new LinkedHashMap<>();
    private final Map<String, Set<Session>> sockets = new ConcurrentHashMap<>();
    private final List<Submission> submissions = new CopyOnWriteArrayList<>();
    private final List<String> interrupts = new CopyOnWriteArrayList<>();
    private final List<String> deletes = new CopyOnWriteArrayList<>();
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicInteger number = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final SplittableRandom random;
    private final java.nio.file.Path workDir;
    /** What is installed now; ComfyUI rescans its folders on every /object_info and /prompt, so a change shows at once. */
    private volatile ComfyInventory inventory;

    /** A prompt in the queue or running. */
    private static final class Job {
        final String id;
        final int number;
        final ObjectNode prompt;
        final ComfyGraph.Validation validation;
        final String clientId;
        final ObjectNode extraData;
        final boolean never;
        final String failure;
        volatile boolean interrupted;

        Job(String id, int number, ObjectNode prompt, ComfyGraph.Validation validation, String clientId, ObjectNode extraData,
            boolean never, String failure) {
            this.id = id;
            this.number = number;
            this.prompt = prompt;
            this.validation = validation;
            this.clientId = clientId;
            this.extraData = extraData;
            this.never = never;
            this.failure = failure;
        }

        ArrayNode queueItem() {
            ArrayNode a = Json.MAPPER.createArrayNode();
            a.add(number);
            a.add(id);
            a.add(prompt);
            a.add(extraData);
            ArrayNode outs = a.addArray();
            validation.outputs().forEach(outs::add);
            return a;
        }
    }

    private ComfyUiEmulator(Config config) {
        this.config = config;
        this.folders = new ComfyFolders(config.storageBytes());
        this.inventory = config.inventory();
        this.random = new SplittableRandom(config.randomSeed());
        this.tomcat = new Tomcat();
        try {
            // Tomcat needs a base folder for its work files; it is ours alone and removed at close,
            // so no start leaves a folder behind (in the data folder or the system temp directory).
            if (config.workDir() != null) {
                Files.createDirectories(config.workDir());
                this.workDir = Files.createTempDirectory(config.workDir(), "comfyui-");
            } else {
                this.workDir = Files.createTempDirectory("kiln-comfyui");
            }
            tomcat.setBaseDir(workDir.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // A distinct engine name: several emulators (and Kiln's own Tomcat) share one JVM.
        tomcat.getEngine().setName("kiln-comfyui-" + INSTANCES.incrementAndGet());
        Connector connector = new Connector();
        connector.setPort(config.port());
        connector.setProperty("address", "127.0.0.1");
        connector.setProperty("useVirtualThreads", "true");
        connector.setProperty("maxSwallowSize", "-1");
        tomcat.setConnector(connector);
        Context ctx = tomcat.addContext("", null);
        ctx.addServletContainerInitializer(new WsSci(), null);
        Tomcat.addServlet(ctx, "comfyui", new Api());
        ctx.addServletMappingDecoded("/", "comfyui");
        try {
            tomcat.start();
        } catch (LifecycleException e) {
            throw new IllegalStateException("cannot start the ComfyUI emulator on port " + config.port(), e);
        }
        ServerContainer ws = (ServerContainer) ctx.getServletContext().getAttribute(ServerContainer.class.getName());
        try {
            for (String path : new String[] {"/ws", "/api/ws"}) {
                ws.addEndpoint(ServerEndpointConfig.Builder.create(Socket.class, path).configurator(new SocketConfigurator()).build());
            }
        } catch (jakarta.websocket.DeploymentException e) {
            tomcatStop();
            throw new IllegalStateException("cannot register the ComfyUI emulator's websocket", e);
        }
        this.baseUrl = "http://127.0.0.1:" + connector.getLocalPort();
        for (int i = 0; i < config.workers(); i++) {
            workers.add(Thread.ofVirtual().name("comfyui-emulator-worker-" + i).start(this::work));
        }
    }

    /** Starts an emulator; close it when done. */
    public static ComfyUiEmulator start(Config config) {
        ComfyUiEmulator e = new ComfyUiEmulator(config);
        LOG.log(System.Logger.Level.DEBUG, "ComfyUI emulator listening on {0}", e.baseUrl);
        return e;
    }

    /** Where it listens, e.g. {@code http://127.0.0.1:43121} (the ComfyUI URL; websocket at {@code /ws}). */
    public String baseUrl() {
        return baseUrl;
    }

    public Config config() {
        return config;
    }

    /** What is installed now. */
    public ComfyInventory inventory() {
        return inventory;
    }

    /** Installs or removes model files and custom nodes while running, as copying files into ComfyUI's folders does. */
    public void inventory(ComfyInventory now) {
        if (now == null) throw new IllegalArgumentException("inventory is required");
        this.inventory = now;
    }

    public ComfyUiFaults faults() {
        return faults;
    }

    /** Prompts accepted so far, oldest first. */
    public List<Submission> submissions() {
        return List.copyOf(submissions);
    }

    /** Prompt ids named by {@code POST /interrupt} (an empty string for a global interrupt). */
    public List<String> interrupts() {
        return List.copyOf(interrupts);
    }

    /** Prompt ids named in {@code POST /queue {"delete":[...]}}. */
    public List<String> deletes() {
        return List.copyOf(deletes);
    }

    /** Open websocket connections. */
    public int websocketCount() {
        return sockets.values().stream().mapToInt(Set::size).sum();
    }

    /** Closes every open websocket, as a ComfyUI restart or a proxy timeout would. */
    public void dropWebsockets() {
        for (Set<Session> set : sockets.values()) {
            for (Session s : set) {
                try {
                    s.close(new CloseReason(CloseReason.CloseCodes.GOING_AWAY, "dropped by the emulator"));
                } catch (IOException ignored) {
                    // already gone
                }
            }
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        workers.forEach(Thread::interrupt);
        running.values().forEach(j -> j.interrupted = true);
        tomcatStop();
        folders.clear();
        deleteWorkDir();
    }

    /** The folder of the embedded Tomcat's work files (gone after {@link #close()}). */
    public java.nio.file.Path workDir() {
        return workDir;
    }

    private void deleteWorkDir() {
        try (var files = Files.walk(workDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.DEBUG, "cannot delete {0}: {1}", f, e.toString());
                }
            });
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot delete the ComfyUI emulator's work folder {0}: {1}", workDir, e.toString());
        }
    }

    private void tomcatStop() {
        try {
            tomcat.stop();
            tomcat.destroy();
        } catch (LifecycleException e) {
            LOG.log(System.Logger.Level.DEBUG, "ComfyUI emulator did not stop cleanly", e);
        }
    }

    // ---- execution

    private void work() {
        while (!closed.get()) {
            Job j;
            try {
                j = pending.pollFirst(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (j == null) continue;
            running.put(j.id, j);
            try {
                execute(j);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "ComfyUI emulator failed on prompt " + j.id, e);
            } finally {
                running.remove(j.id);
                broadcastStatus();
            }
        }
    }

    private void execute(Job j) {
        long now = System.currentTimeMillis();
        List<ArrayNode> messages = new ArrayList<>();
        ObjectNode start = event(j);
        start.put("timestamp", now);
        send(j, "execution_start", start, messages);
        ObjectNode cached = event(j);
        cached.putArray("nodes");
        cached.put("timestamp", now);
        send(j, "execution_cached", cached, messages);
        ComfyGraph graph = ComfyGraph.of(j.prompt);
        long perStep = config.latency().toNanos() / ComfyMachine.totalSteps(graph);
        List<String> executed = new ArrayList<>();
        boolean[] stepped = {false};
        String[] current = {null, null};
        Map<String, ObjectNode> outputs = new LinkedHashMap<>();
        ComfyMachine.Listener listener = new ComfyMachine.Listener() {
            @Override
            public void executing(String nodeId, String classType) {
                checkInterrupt(j, nodeId, classType);
                current[0] = nodeId;
                current[1] = classType;
                ObjectNode d = event(j);
                d.put("node", nodeId);
                d.put("display_node", nodeId);
                send(j, "executing", d, null);
                if (j.failure != null && (classType.startsWith("KSampler") || j.validation.outputs().contains(nodeId))) {
                    throw new ComfyMachine.ExecutionError(nodeId, classType, "torch.OutOfMemoryError", j.failure);
                }
                executed.add(nodeId);
            }

            @Override
            public void progress(String nodeId, int value, int max) {
                stepped[0] = true;
                pause(j, perStep);
                if (j.never) {
                    while (!j.interrupted && !closed.get()) pause(j, TimeUnit.MILLISECONDS.toNanos(20));
                }
                checkInterrupt(j, nodeId, current[1]);
                ObjectNode d = event(j);
                d.put("value", value);
                d.put("max", max);
                d.put("node", nodeId);
                send(j, "progress", d, null);
            }

            @Override
            public void executed(String nodeId, ObjectNode ui) {
                outputs.put(nodeId, ui);
                ObjectNode d = event(j);
                d.put("node", nodeId);
                d.put("display_node", nodeId);
                d.set("output", ui);
                send(j, "executed", d, null);
            }
        };
        String status;
        try {
            ComfyMachine.run(graph, j.validation.outputs(), folders, listener);
            if (!stepped[0]) pause(j, config.latency().toNanos());
            checkInterrupt(j, current[0], current[1]);
            ObjectNode ok = event(j);
            ok.put("timestamp", System.currentTimeMillis());
            messages.add(pair("execution_success", ok));
            writeHistory(j, outputs, "success", true, messages);
            send(j, "execution_success", ok, null);
            status = "success";
        } catch (ComfyMachine.Interrupted e) {
            ObjectNode d = event(j);
            d.put("node_id", e.nodeId());
            d.put("node_type", e.nodeType());
            ArrayNode ex = d.putArray("executed");
            executed.forEach(ex::add);
            d.put("timestamp", System.currentTimeMillis());
            messages.add(pair("execution_interrupted", d));
            writeHistory(j, outputs, "error", false, messages);
            send(j, "execution_interrupted", d, null);
            status = "interrupted";
        } catch (ComfyMachine.ExecutionError e) {
            ObjectNode d = event(j);
            d.put("node_id", e.nodeId());
            d.put("node_type", e.nodeType());
            ArrayNode ex = d.putArray("executed");
            executed.forEach(ex::add);
            d.put("exception_message", e.getMessage());
            d.put("exception_type", e.exceptionType());
            d.putArray("traceback").add("  File \"execution.py\", in execute\n" + e.exceptionType() + ": " + e.getMessage());
            d.putObject("current_inputs");
            d.putObject("current_outputs");
            d.put("timestamp", System.currentTimeMillis());
            messages.add(pair("execution_error", d));
            writeHistory(j, outputs, "error", false, messages);
            send(j, "execution_error", d, null);
            status = "error";
        }
        // The end of a prompt: executing with node null, sent after the history is written.
        ObjectNode end = event(j);
        end.putNull("node");
        end.putNull("display_node");
        send(j, "executing", end, null);
        LOG.log(System.Logger.Level.DEBUG, "prompt {0} ended: {1}", j.id, status);
    }

    private void checkInterrupt(Job j, String nodeId, String classType) {
        if (j.interrupted || closed.get()) throw new ComfyMachine.Interrupted(nodeId, classType);
    }

    private void pause(Job j, long nanos) {
        if (nanos <= 0) return;
        long end = System.nanoTime() + nanos;
        try {
            for (long left = nanos; left > 0 && !j.interrupted; left = end - System.nanoTime()) {
                Thread.sleep(Duration.ofNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(20))));
            }
        } catch (InterruptedException e) {
            j.interrupted = true;
        }
    }

    private void writeHistory(Job j, Map<String, ObjectNode> outputs, String statusStr, boolean completed, List<ArrayNode> messages) {
        ObjectNode h = Json.object();
        h.set("prompt", j.queueItem());
        ObjectNode outs = h.putObject("outputs");
        outputs.forEach(outs::set);
        ObjectNode st = h.putObject("status");
        st.put("status_str", statusStr);
        st.put("completed", completed);
        ArrayNode ms = st.putArray("messages");
        messages.forEach(ms::add);
        ObjectNode meta = h.putObject("meta");
        outputs.keySet().forEach(id -> {
            ObjectNode m = meta.putObject(id);
            m.put("node_id", id);
            m.put("display_node", id);
            m.putNull("parent_node");
            m.put("real_node_id", id);
        });
        synchronized (history) {
            history.put(j.id, h);
            while (history.size() > config.maxHistory()) history.remove(history.keySet().iterator().next());
        }
    }

    private static ObjectNode event(Job j) {
        ObjectNode d = Json.object();
        d.put("prompt_id", j.id);
        return d;
    }

    private static ArrayNode pair(String type, ObjectNode data) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        a.add(type);
        a.add(data);
        return a;
    }

    /** Sends an execution message to the prompt's client only (ComfyUI sends none without a client_id). */
    private void send(Job j, String type, ObjectNode data, List<ArrayNode> history) {
        if (history != null) history.add(pair(type, data));
        if (j.clientId == null) return;
        sendTo(j.clientId, type, data);
    }

    private void sendTo(String clientId, String type, ObjectNode data) {
        Set<Session> set = sockets.get(clientId);
        if (set == null) return;
        ObjectNode msg = Json.object();
        msg.put("type", type);
        msg.set("data", data);
        String text = Json.write(msg);
        for (Session s : set) {
            synchronized (s) {
                try {
                    if (s.isOpen()) s.getBasicRemote().sendText(text);
                } catch (IOException | IllegalStateException e) {
                    LOG.log(System.Logger.Level.DEBUG, "websocket send failed: {0}", e.toString());
                }
            }
        }
    }

    private ObjectNode statusData(String sid) {
        ObjectNode d = Json.object();
        d.putObject("status").putObject("exec_info").put("queue_remaining", pending.size() + running.size());
        if (sid != null) d.put("sid", sid);
        return d;
    }

    private void broadcastStatus() {
        for (String client : sockets.keySet()) sendTo(client, "status", statusData(null));
    }

    // ---- websocket

    private final class SocketConfigurator extends ServerEndpointConfig.Configurator {
        @Override
        public void modifyHandshake(ServerEndpointConfig sec, HandshakeRequest request, HandshakeResponse response) {
            if (faults.websocketRefused()) throw new IllegalStateException("websocket refused by fault injection");
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T getEndpointInstance(Class<T> clazz) {
            return (T) new Socket(ComfyUiEmulator.this);
        }
    }

    /** One {@code /ws?clientId=} connection: gets its client's execution messages and every status broadcast. */
    public static final class Socket extends Endpoint {
        private final ComfyUiEmulator emulator;
        private String clientId;

        Socket(ComfyUiEmulator emulator) {
            this.emulator = emulator;
        }

        @Override
        public void onOpen(Session session, EndpointConfig config) {
            List<String> ids = session.getRequestParameterMap().get("clientId");
            clientId = ids == null || ids.isEmpty() || ids.getFirst().isBlank() ? UUID.randomUUID().toString().replace("-", "") : ids.getFirst();
            emulator.sockets.computeIfAbsent(clientId, k -> ConcurrentHashMap.newKeySet()).add(session);
            session.addMessageHandler(String.class, text -> { /* feature_flags and the like: nothing to answer */ });
            emulator.sendTo(clientId, "status", emulator.statusData(clientId));
        }

        @Override
        public void onClose(Session session, CloseReason reason) {
            Set<Session> set = emulator.sockets.get(clientId);
            if (set != null) set.remove(session);
        }

        @Override
        public void onError(Session session, Throwable t) {
            onClose(session, null);
        }
    }

    // ---- HTTP

    private final class Api extends HttpServlet {
        @Override
        protected void service(HttpServletRequest req, HttpServletResponse res) throws IOException {
            try {
                Duration d = faults.takeDelay();
                if (d != null) Thread.sleep(d);
                String path = req.getRequestURI();
                if (path.startsWith("/api/")) path = path.substring(4);
                route(req.getMethod(), path, req, res);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (BadRequest e) {
                json(res, e.status, e.body);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "ComfyUI emulator failed on " + req.getRequestURI(), e);
                if (!res.isCommitted()) text(res, 500, "500 Internal Server Error\n\nServer got itself in trouble");
            }
        }
    }

    private static final class BadRequest extends RuntimeException {
        final int status;
        final ObjectNode body;

        BadRequest(int status, ObjectNode body) {
            super(null, null, false, false);
            this.status = status;
            this.body = body;
        }
    }

    private void route(String method, String path, HttpServletRequest req, HttpServletResponse res) throws IOException {
        switch (method + " " + path) {
            case "GET /" -> text(res, 200, "<!DOCTYPE html><title>ComfyUI (Kiln sandbox)</title>");
            case "POST /prompt" -> prompt(req, res);
            case "GET /prompt" -> {
                ObjectNode o = Json.object();
                o.putObject("exec_info").put("queue_remaining", pending.size() + running.size());
                json(res, 200, o);
            }
            case "GET /queue" -> {
                ObjectNode o = Json.object();
                ArrayNode r = o.putArray("queue_running");
                running.values().forEach(j -> r.add(j.queueItem()));
                ArrayNode p = o.putArray("queue_pending");
                pending.forEach(j -> p.add(j.queueItem()));
                json(res, 200, o);
            }
            case "POST /queue" -> {
                ObjectNode body = body(req, true);
                if (body.path("clear").asBoolean(false)) pending.clear();
                for (JsonNode id : body.path("delete")) {
                    deletes.add(id.asString());
                    pending.removeIf(j -> j.id.equals(id.asString()));
                }
                res.setStatus(200);
            }
            case "POST /interrupt" -> {
                ObjectNode body = body(req, true);
                // Older servers ignore the body: every interrupt stops whatever runs.
                String id = config.legacyServer() ? "" : body.path("prompt_id").asString("");
                interrupts.add(body.path("prompt_id").asString(""));
                for (Job j : running.values()) if (id.isEmpty() || j.id.equals(id)) j.interrupted = true;
                res.setStatus(200);
            }
            case "GET /history" -> {
                int max = intParam(req, "max_items", Integer.MAX_VALUE);
                ObjectNode o = Json.object();
                synchronized (history) {
                    List<String> ids = new ArrayList<>(history.keySet());
                    for (int i = Math.max(0, ids.size() - max); i < ids.size(); i++) o.set(ids.get(i), history.get(ids.get(i)));
                }
                json(res, 200, o);
            }
            case "POST /history" -> {
                ObjectNode body = body(req, true);
                synchronized (history) {
                    if (body.path("clear").asBoolean(false)) history.clear();
                    for (JsonNode id : body.path("delete")) history.remove(id.asString());
                }
                res.setStatus(200);
            }
            case "GET /view" -> view(req, res);
            case "POST /upload/image" -> upload(req, res);
            case "GET /system_stats" -> json(res, 200, systemStats());
            case "GET /object_info" -> {
                if (faults.takeObjectInfoServerError()) text(res, 500, "500 Internal Server Error");
                else json(res, 200, ComfyGraph.objectInfo(folders.inputNames(), inventory));
            }
            default -> {
                if (method.equals("GET") && path.startsWith("/history/")) {
                    if (faults.takeHistoryServerError()) {
                        text(res, 500, "500 Internal Server Error");
                        return;
                    }
                    String id = path.substring("/history/".length());
                    ObjectNode o = Json.object();
                    synchronized (history) {
                        ObjectNode h = history.get(id);
                        if (h != null) o.set(id, h);
                    }
                    json(res, 200, o);
                } else if (method.equals("GET") && path.startsWith("/object_info/")) {
                    ObjectNode all = ComfyGraph.objectInfo(folders.inputNames(), inventory);
                    String cls = path.substring("/object_info/".length());
                    ObjectNode o = Json.object();
                    if (all.has(cls)) o.set(cls, all.get(cls));
                    json(res, 200, o);
                } else {
                    text(res, 404, "404: Not Found");
                }
            }
        }
    }

    private void prompt(HttpServletRequest req, HttpServletResponse res) throws IOException {
        Duration retry = faults.takePromptRateLimit();
        if (retry != null) {
            res.setHeader("Retry-After", Long.toString((retry.toMillis() + 999) / 1000));
            text(res, 429, "429: Too Many Requests");
            return;
        }
        if (faults.takePromptServerError()) {
            text(res, 500, "500 Internal Server Error\n\nServer got itself in trouble");
            return;
        }
        ObjectNode body;
        try {
            body = body(req, false);
        } catch (BadRequest e) {
            ObjectNode err = Json.object();
            err.putObject("error").put("type", "invalid_prompt").put("message", "Invalid JSON").put("details", "").putObject("extra_info");
            err.putObject("node_errors");
            throw new BadRequest(400, err);
        }
        JsonNode prompt = body.get("prompt");
        if (prompt == null || prompt.isNull()) {
            ObjectNode err = Json.object();
            err.putObject("error").put("type", "no_prompt").put("message", "No prompt provided").put("details", "No prompt provided").putObject("extra_info");
            err.putObject("node_errors");
            json(res, 400, err);
            return;
        }
        ComfyGraph.Validation v = ComfyGraph.validate(prompt, folders.inputNames(), inventory);
        if (!v.ok()) {
            json(res, 400, v.errorBody());
            return;
        }
        String id = config.legacyServer() ? "" : body.path("prompt_id").asString("");
        if (id.isBlank()) id = UUID.randomUUID().toString();
        int n = body.has("number") && body.get("number").isNumber() ? body.get("number").asInt() : number.incrementAndGet();
        String client = body.path("client_id").asString(null);
        ObjectNode extra = body.get("extra_data") instanceof ObjectNode e ? e : Json.object();
        if (client != null) extra.put("client_id", client);
        String failure = faults.takeExecutionFailure();
        if (failure == null && config.failRate() > 0) {
            synchronized (random) {
                if (random.nextDouble() < config.failRate()) failure = "sandbox failure (KILN_SANDBOX_FAIL_RATE)";
            }
        }
        Job j = new Job(id, n, (ObjectNode) prompt, v, client, extra, faults.takeNeverComplete(), failure);
        submissions.add(new Submission(id, client, prompt.deepCopy(), Instant.now()));
        if (body.path("front").asBoolean(false)) pending.addFirst(j);
        else pending.addLast(j);
        broadcastStatus();
        if (faults.takePromptMalformed()) {
            text(res, 200, "<html><body>502 Bad Gateway</body></html>");
            return;
        }
        ObjectNode o = Json.object();
        o.put("prompt_id", id);
        o.put("number", n);
        o.set("node_errors", v.nodeErrors());
        json(res, 200, o);
    }

    private void view(HttpServletRequest req, HttpServletResponse res) throws IOException {
        String filename = req.getParameter("filename");
        String subfolder = req.getParameter("subfolder") == null ? "" : req.getParameter("subfolder");
        String type = req.getParameter("type") == null ? "output" : req.getParameter("type");
        if (filename == null || filename.isEmpty() || filename.startsWith("/") || filename.contains("..")) {
            text(res, 400, "400: Bad Request");
            return;
        }
        if (subfolder.contains("..") || subfolder.startsWith("/") || !Set.of("output", "input", "temp").contains(type)) {
            text(res, 403, "403: Forbidden");
            return;
        }
        byte[] b = folders.get(type, subfolder, filename);
        if (b == null) {
            text(res, 404, "404: Not Found");
            return;
        }
        res.setStatus(200);
        res.setContentType(mime(filename));
        res.setHeader("Content-Disposition", "filename=\"" + filename + "\"");
        res.setContentLength(b.length);
        res.getOutputStream().write(b);
    }

    private void upload(HttpServletRequest req, HttpServletResponse res) throws IOException {
        byte[] raw = read(req, MAX_UPLOAD);
        List<Multipart.Part> parts;
        try {
            parts = Multipart.parse(req.getContentType(), raw);
        } catch (IllegalArgumentException e) {
            text(res, 400, "400: " + e.getMessage());
            return;
        }
        Multipart.Part image = null;
        Map<String, String> fields = new LinkedHashMap<>();
        for (Multipart.Part p : parts) {
            if ("image".equals(p.name())) image = p;
            else fields.put(p.name(), new String(p.body(), java.nio.charset.StandardCharsets.UTF_8));
        }
        if (image == null || image.filename() == null || image.filename().isBlank()) {
            res.setStatus(400);
            return;
        }
        String type = fields.getOrDefault("type", "input");
        if (type.isBlank()) type = "input";
        String subfolder = fields.getOrDefault("subfolder", "");
        if (subfolder.contains("..") || subfolder.startsWith("/") || !Set.of("input", "temp", "output").contains(type)) {
            res.setStatus(400);
            return;
        }
        String name = image.filename();
        name = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
        boolean overwrite = Set.of("true", "1").contains(fields.getOrDefault("overwrite", "").toLowerCase(Locale.ROOT));
        String used = folders.upload(type, subfolder, name, image.body(), overwrite);
        ObjectNode o = Json.object();
        o.put("name", used);
        o.put("subfolder", subfolder);
        o.put("type", type);
        json(res, 200, o);
    }

    private ObjectNode systemStats() {
        ObjectNode o = Json.object();
        ObjectNode s = o.putObject("system");
        s.put("os", "posix");
        s.put("ram_total", Runtime.getRuntime().maxMemory());
        s.put("ram_free", Runtime.getRuntime().freeMemory());
        s.put("comfyui_version", "0.3.66 (Kiln sandbox)");
        s.put("python_version", "3.12.0 (emulated)");
        s.put("pytorch_version", "none (Kiln sandbox graph machine)");
        s.put("embedded_python", false);
        s.putArray("argv").add("main.py");
        ObjectNode d = o.putArray("devices").addObject();
        d.put("name", "sandbox");
        d.put("type", "cpu");
        d.put("index", 0);
        for (String f : new String[] {"vram_total", "vram_free", "torch_vram_total", "torch_vram_free"}) d.put(f, 0);
        return o;
    }

    // ---- helpers

    private static ObjectNode body(HttpServletRequest req, boolean emptyIsObject) throws IOException {
        byte[] raw = read(req, MAX_JSON);
        if (raw.length == 0 && emptyIsObject) return Json.object();
        try {
            JsonNode n = Json.MAPPER.readTree(raw);
            if (n instanceof ObjectNode o) return o;
        } catch (JacksonException e) {
            // below
        }
        ObjectNode err = Json.object();
        err.put("error", "request body must be a JSON object");
        throw new BadRequest(400, err);
    }

    private static byte[] read(HttpServletRequest req, int max) throws IOException {
        try (InputStream in = req.getInputStream()) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                ObjectNode err = Json.object();
                err.put("error", "request body too large");
                throw new BadRequest(413, err);
            }
            return b;
        }
    }

    private static int intParam(HttpServletRequest req, String name, int dflt) {
        try {
            return req.getParameter(name) == null ? dflt : Integer.parseInt(req.getParameter(name));
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    static String mime(String filename) {
        String f = filename.toLowerCase(Locale.ROOT);
        if (f.endsWith(".png")) return "image/png";
        if (f.endsWith(".jpg") || f.endsWith(".jpeg")) return "image/jpeg";
        if (f.endsWith(".webp")) return "image/webp";
        if (f.endsWith(".gif")) return "image/gif";
        if (f.endsWith(".mp4")) return "video/mp4";
        if (f.endsWith(".webm")) return "video/webm";
        return "application/octet-stream";
    }

    private static void json(HttpServletResponse res, int status, JsonNode body) throws IOException {
        byte[] b = Json.MAPPER.writeValueAsBytes(body);
        res.setStatus(status);
        res.setContentType("application/json");
        res.setContentLength(b.length);
        res.getOutputStream().write(b);
    }

    private static void text(HttpServletResponse res, int status, String body) throws IOException {
        byte[] b = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        res.setStatus(status);
        res.setContentType(body.startsWith("<") ? "text/html; charset=utf-8" : "text/plain; charset=utf-8");
        res.setContentLength(b.length);
        res.getOutputStream().write(b);
    }
}

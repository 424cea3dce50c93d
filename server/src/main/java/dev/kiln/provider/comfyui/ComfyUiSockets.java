package dev.kiln.provider.comfyui;

import dev.kiln.provider.ProviderAccount;
import dev.kiln.support.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * Progress from ComfyUI's {@code /ws} websocket, one connection per account (JDK
 * {@link WebSocket}). Its client id is sent with every prompt, so ComfyUI sends this connection
 * the prompt's {@code executing}/{@code progress}/{@code executed}/{@code execution_*} messages.
 * What it learns is a hint that saves HTTP calls while a prompt runs; {@code /history} stays the
 * truth, and a lost connection only means more polling.
 */
final class ComfyUiSockets implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ComfyUiSockets.class.getName());
    /** After a failed connect, polling alone for this long before trying again. */
    private static final Duration RETRY_AFTER = Duration.ofSeconds(10);
    private static final Duration FORGET_AFTER = Duration.ofHours(2);

    /** What the websocket said about one prompt. */
    static final class Tracked {
        volatile boolean started;
        volatile boolean finished;
        volatile double progress;
        volatile Instant seen = Instant.now();
    }

    private final class Connection implements WebSocket.Listener {
        final String clientId = "kiln-" + UUID.randomUUID().toString().replace("-", "");
        final Map<String, Tracked> prompts = new ConcurrentHashMap<>();
        final StringBuilder partial = new StringBuilder();
        volatile WebSocket socket;
        volatile boolean open;
        volatile Instant failedAt;

        @Override
        public void onOpen(WebSocket ws) {
            open = true;
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    handle(Json.MAPPER.readTree(text));
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.DEBUG, "unreadable ComfyUI websocket message: {0}", e.toString());
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            ws.request(1); // previews: not needed
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            open = false;
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            open = false;
            failedAt = Instant.now();
        }

        void handle(JsonNode msg) {
            JsonNode data = msg.path("data");
            String promptId = data.path("prompt_id").asString(null);
            if (promptId == null) return;
            Tracked t = prompts.computeIfAbsent(promptId, k -> new Tracked());
            t.seen = Instant.now();
            switch (msg.path("type").asString("")) {
                case "execution_start", "execution_cached" -> t.started = true;
                case "executing" -> {
                    t.started = true;
                    if (data.path("node").isNull()) t.finished = true;
                }
                case "progress" -> {
                    int max = data.path("max").asInt(0);
                    if (max > 0) t.progress = Math.max(0, Math.min(0.99, data.path("value").asDouble() / max));
                }
                case "execution_success", "execution_error", "execution_interrupted" -> t.finished = true;
                default -> { }
            }
        }
    }

    private final HttpClient client;
    private final Duration connectTimeout;
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();

    ComfyUiSockets(HttpClient client, Duration connectTimeout) {
        this.client = client;
        this.connectTimeout = connectTimeout;
    }

    /**
     * The client id to send with a prompt: that of a connected websocket (connecting first if need
     * be), or a fresh one when no websocket can be had (the prompt is then followed by polling).
     */
    String clientIdFor(ProviderAccount account, String base) {
        Connection c = connections.computeIfAbsent(key(account, base), k -> new Connection());
        if (!c.open && (c.failedAt == null || c.failedAt.plus(RETRY_AFTER).isBefore(Instant.now()))) connect(c, base);
        return c.clientId;
    }

    /** Starts following a prompt sent with this account's client id. */
    void follow(ProviderAccount account, String base, String promptId) {
        Connection c = connections.get(key(account, base));
        if (c != null) c.prompts.computeIfAbsent(promptId, k -> new Tracked());
        forgetOld(c);
    }

    /** What the websocket knows of a prompt while it is connected, else null (then ask over HTTP). */
    Tracked tracked(ProviderAccount account, String base, String promptId) {
        Connection c = connections.get(key(account, base));
        if (c == null || !c.open) return null;
        return c.prompts.get(promptId);
    }

    void forget(ProviderAccount account, String base, String promptId) {
        Connection c = connections.get(key(account, base));
        if (c != null) c.prompts.remove(promptId);
    }

    boolean connected(ProviderAccount account, String base) {
        Connection c = connections.get(key(account, base));
        return c != null && c.open;
    }

    private void connect(Connection c, String base) {
        synchronized (c) {
            if (c.open) return;
            String ws = base.replaceFirst("^http", "ws") + "/ws?clientId=" + c.clientId;
            try {
                c.socket = client.newWebSocketBuilder().connectTimeout(connectTimeout).buildAsync(URI.create(ws), c)
                        .get(connectTimeout.toMillis() + 500, TimeUnit.MILLISECONDS);
                c.open = true;
                c.failedAt = null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                c.failedAt = Instant.now();
            } catch (Exception e) {
                c.failedAt = Instant.now();
                LOG.log(System.Logger.Level.DEBUG, "no ComfyUI websocket at {0}: {1}", ws, e.toString());
            }
        }
    }

    private static void forgetOld(Connection c) {
        if (c == null) return;
        Instant horizon = Instant.now().minus(FORGET_AFTER);
        c.prompts.values().removeIf(t -> t.seen.isBefore(horizon));
    }

    private static String key(ProviderAccount account, String base) {
        return account.id() + "|" + base;
    }

    @Override
    public void close() {
        for (Connection c : connections.values()) {
            WebSocket s = c.socket;
            if (s != null) s.abort();
        }
        connections.clear();
    }
}

package dev.kiln.emulator.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.emulator.support.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executor;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** HTTP plumbing shared by the emulators. */
public final class EmulatorHttp {
    private EmulatorHttp() {}

    static {
        // The JDK server flushes headers and body as two TCP segments; with Nagle's algorithm on
        // (its default) the body then waits for the client's delayed ACK, which cut throughput to a
        // quarter (250 instead of 900 cycles/s). The JDK reads this once, when its first server
        // starts, so the emulators must start before any other com.sun.net.httpserver server.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    /**
     * A server on 127.0.0.1 ({@code port} 0: any free one) handing every path to {@code handler}
     * on {@code executor}; not started yet.
     */
    public static HttpServer loopbackServer(int port, Executor executor, HttpHandler handler) throws IOException {
        InetAddress loopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        HttpServer server = HttpServer.create(new InetSocketAddress(loopback, port), 1024);
        server.setExecutor(executor);
        server.createContext("/", handler);
        return server;
    }

    /** The base URL a started or bound server answers on. */
    public static String baseUrl(HttpServer server) {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Thrown to close the connection without an answer. */
    public static final class Drop extends RuntimeException {
        public Drop() {
            super(null, null, false, false);
        }
    }

    /** An error answer with this status and JSON body. */
    public static final class Refused extends RuntimeException {
        public final int status;
        public final JsonNode body;

        public Refused(int status, JsonNode body) {
            super(body.toString(), null, false, false);
            this.status = status;
            this.body = body;
        }
    }

    public static void answer(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json", Json.MAPPER.writeValueAsBytes(body), Map.of());
    }

    public static void answerQuietly(HttpExchange ex, int status, JsonNode body) {
        try {
            answer(ex, status, body);
        } catch (IOException | RuntimeException ignored) {
            // The answer had already started or the client left.
        }
    }

    public static void send(HttpExchange ex, int status, String contentType, byte[] body, Map<String, String> headers) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) ex.getResponseBody().write(body);
    }

    public static byte[] readBody(HttpExchange ex, int max, JsonNode tooLarge) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) throw new Refused(413, tooLarge);
            return b;
        }
    }

    /** The body as a JSON object, or null when it is not one. */
    public static ObjectNode jsonObject(byte[] raw) {
        try {
            JsonNode n = Json.MAPPER.readTree(raw);
            return n instanceof ObjectNode o ? o : null;
        } catch (JacksonException e) {
            return null;
        }
    }

    public static String queryParam(HttpExchange ex, String name) {
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

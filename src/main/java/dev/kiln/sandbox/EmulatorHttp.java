package dev.kiln.sandbox;

import com.sun.net.httpserver.HttpExchange;
import dev.kiln.support.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** HTTP plumbing shared by the Replicate and fal emulators. */
final class EmulatorHttp {
    private EmulatorHttp() {}

    /** Thrown to close the connection without an answer. */
    static final class Drop extends RuntimeException {
        Drop() {
            super(null, null, false, false);
        }
    }

    /** An error answer with this status and JSON body. */
    static final class Refused extends RuntimeException {
        final int status;
        final JsonNode body;

        Refused(int status, JsonNode body) {
            super(body.toString(), null, false, false);
            this.status = status;
            this.body = body;
        }
    }

    static void answer(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json", Json.MAPPER.writeValueAsBytes(body), Map.of());
    }

    static void answerQuietly(HttpExchange ex, int status, JsonNode body) {
        try {
            answer(ex, status, body);
        } catch (IOException | RuntimeException ignored) {
            // The answer had already started or the client left.
        }
    }

    static void send(HttpExchange ex, int status, String contentType, byte[] body, Map<String, String> headers) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) ex.getResponseBody().write(body);
    }

    static byte[] readBody(HttpExchange ex, int max, JsonNode tooLarge) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) throw new Refused(413, tooLarge);
            return b;
        }
    }

    /** The body as a JSON object, or null when it is not one. */
    static ObjectNode jsonObject(byte[] raw) {
        try {
            JsonNode n = Json.MAPPER.readTree(raw);
            return n instanceof ObjectNode o ? o : null;
        } catch (JacksonException e) {
            return null;
        }
    }

    static String queryParam(HttpExchange ex, String name) {
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

package dev.kiln.testing;

import dev.kiln.support.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/** A small real-HTTP client for tests: every call goes over the wire to the running server. */
public final class Http {
    private final String base;
    private final Map<String, String> headers;
    private final HttpClient client;

    public Http(String base) {
        this(base, Map.of(), HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build());
    }

    private Http(String base, Map<String, String> headers, HttpClient client) {
        this.base = base;
        this.headers = headers;
        this.client = client;
    }

    /** The same client sending these headers too on every request (credentials, say). */
    public Http with(Map<String, String> extra) {
        Map<String, String> h = new java.util.LinkedHashMap<>(headers);
        h.putAll(extra);
        return new Http(base, h, client);
    }

    public Http with(String header, String value) {
        return with(Map.of(header, value));
    }

    /** An answer: status, headers and body. */
    public record Answer(int status, java.net.http.HttpHeaders headers, byte[] body) {
        public JsonNode json() {
            return Json.MAPPER.readTree(body);
        }

        public String text() {
            return new String(body, java.nio.charset.StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        @Override
        public String toString() {
            return status + " " + text();
        }
    }

    public Answer get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET().build());
    }

    public Answer get(String path, Map<String, String> extra) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).GET();
        extra.forEach(b::header);
        return send(b.build());
    }

    public Answer post(String path, String json) {
        return post(path, json, Map.of());
    }

    public Answer post(String path, String json, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json == null ? "" : json));
        headers.forEach(b::header);
        return send(b.build());
    }

    public Answer postRaw(String path, String contentType, byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) b.header("Content-Type", contentType);
        return send(b.build());
    }

    public Answer delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE().build());
    }

    public Answer delete(String path, Map<String, String> extra) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).DELETE();
        extra.forEach(b::header);
        return send(b.build());
    }

    public Answer send(HttpRequest request) {
        HttpRequest req = request;
        if (!headers.isEmpty()) {
            HttpRequest.Builder b = HttpRequest.newBuilder(request, (n, v) -> true);
            headers.forEach((k, v) -> {
                if (request.headers().firstValue(k).isEmpty()) b.header(k, v);
            });
            req = b.build();
        }
        try {
            HttpResponse<byte[]> r = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
            return new Answer(r.statusCode(), r.headers(), r.body());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public URI uri(String path) {
        return URI.create(base + path);
    }

    public HttpClient client() {
        return client;
    }
}

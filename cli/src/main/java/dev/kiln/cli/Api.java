package dev.kiln.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Kiln's HTTP API as the CLI uses it: JSON requests, problem+json errors, byte and event streams.
 * Credentials come from the environment: {@code KILN_API_KEY} as {@code Authorization: Bearer},
 * {@code KILN_ADMIN_KEY} as {@code x-admin-key}.
 */
final class Api {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final String base;
    private final String apiKey;
    private final String adminKey;
    private final HttpClient http;

    Api(String url, String apiKey, String adminKey) {
        String u = url.strip();
        while (u.endsWith("/")) u = u.substring(0, u.length() - 1);
        try {
            URI parsed = new URI(u);
            if (parsed.getScheme() == null || !(parsed.getScheme().equals("http") || parsed.getScheme().equals("https"))
                    || parsed.getHost() == null) {
                throw CliException.usage("--url must be an http(s) URL such as http://localhost:8080, got '" + url + "'");
            }
        } catch (java.net.URISyntaxException e) {
            throw CliException.usage("--url must be an http(s) URL such as http://localhost:8080, got '" + url + "'");
        }
        this.base = u;
        this.apiKey = blankToNull(apiKey);
        this.adminKey = blankToNull(adminKey);
        // HTTP/1.1: event streams stay simple, and a plain-http server is not offered an h2c upgrade.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    String base() {
        return base;
    }

    <T> T get(String path, Class<T> type) {
        return read(send(request(path).header("Accept", "application/json").GET().build()), "GET " + path, type);
    }

    /** POSTs JSON; the idempotency key makes a retried submission return the first answer instead of a second run. */
    <T> T post(String path, JsonNode body, String idempotencyKey, Class<T> type) {
        HttpRequest.Builder b = request(path).header("Accept", "application/json").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Wire.JSON.writeValueAsBytes(body)));
        if (idempotencyKey != null) b.header("Idempotency-Key", idempotencyKey);
        return read(send(b.build()), "POST " + path, type);
    }

    /**
     * Opens a streamed answer (asset bytes, an event stream). A non-2xx answer is read and thrown
     * as {@link CliException.Refused}.
     *
     * @param timeout until the answer's headers arrive; the body may then stream for as long as it takes
     */
    HttpResponse<InputStream> open(String path, String accept, Duration timeout) {
        HttpRequest req = request(path).timeout(timeout).header("Accept", accept).GET().build();
        HttpResponse<InputStream> res;
        try {
            res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new CliException.Unreachable(base, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(Exit.INTERRUPTED, "interrupted");
        }
        if (res.statusCode() / 100 != 2) {
            byte[] body;
            try (InputStream in = res.body()) {
                body = in.readNBytes(64 * 1024);
            } catch (IOException e) {
                body = new byte[0];
            }
            throw new CliException.Refused("GET " + path, res.statusCode(), problem(res.statusCode(), contentType(res), body));
        }
        return res;
    }

    /**
     * Opens an absolute URL an answer pointed at (e.g. an output in S3-compatible storage, presigned);
     * Kiln's credentials are not sent to it.
     */
    HttpResponse<InputStream> openExternal(String url, Duration timeout) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).header("User-Agent", "kiln-cli").GET().build();
        HttpResponse<InputStream> res;
        try {
            res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new CliException.Unreachable(URI.create(url).getHost(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(Exit.INTERRUPTED, "interrupted");
        }
        if (res.statusCode() / 100 != 2) {
            try (InputStream in = res.body()) {
                in.readNBytes(64 * 1024);
            } catch (IOException ignored) {
                // only draining
            }
            throw new CliException.Refused("GET " + url, res.statusCode(), Problem.unstructured(res.statusCode(), null, null));
        }
        return res;
    }

    /** Uploads a local image ({@code POST /v1/assets}, multipart field {@code file}); returns the asset id. */
    String upload(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw CliException.usage("cannot read " + file + ": " + e.getMessage());
        }
        String boundary = "kiln-" + java.util.UUID.randomUUID();
        String name = file.getFileName().toString().replaceAll("[\"\\r\\n]", "_");
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        HttpRequest req = request("/v1/assets").header("Accept", "application/json")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArrays(java.util.List.of(head, bytes, tail))).build();
        Uploaded u = read(send(req), "uploading " + file, Uploaded.class);
        return u.id();
    }

    record Uploaded(String id) {}

    static String query(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static Optional<String> contentType(HttpResponse<?> res) {
        return res.headers().firstValue("Content-Type");
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(REQUEST_TIMEOUT)
                .header("User-Agent", "kiln-cli");
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        if (adminKey != null) b.header("x-admin-key", adminKey);
        return b;
    }

    private HttpResponse<byte[]> send(HttpRequest req) {
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new CliException.Unreachable(base, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(Exit.INTERRUPTED, "interrupted");
        }
    }

    private <T> T read(HttpResponse<byte[]> res, String what, Class<T> type) {
        if (res.statusCode() / 100 != 2) throw new CliException.Refused(what, res.statusCode(), problem(res.statusCode(), contentType(res), res.body()));
        try {
            return Wire.JSON.readValue(res.body(), type);
        } catch (JacksonException e) {
            throw new CliException(Exit.REFUSED, what + ": the server's answer is not what this CLI understands ("
                    + e.getOriginalMessage() + "); is " + base + " a Kiln server of the same version?");
        }
    }

    static Problem problem(int status, Optional<String> contentType, byte[] body) {
        String ct = contentType.orElse(null);
        if (ct != null && ct.contains("json") && body.length > 0) {
            try {
                Problem p = Wire.JSON.readValue(body, Problem.class);
                if (p.code() != null || p.detail() != null) return p;
            } catch (JacksonException notAProblem) {
                // fall through to the raw text
            }
        }
        return Problem.unstructured(status, ct, new String(body, StandardCharsets.UTF_8));
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}

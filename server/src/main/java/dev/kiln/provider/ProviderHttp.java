package dev.kiln.provider;

import dev.kiln.support.Json;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.Executors;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The HTTP transport shared by provider adapters, on the JDK {@link HttpClient}. Its one job
 * beyond sending is to tell apart a request that never left ({@link ProviderException.Unavailable},
 * safe to retry) from one that may have been received ({@link ProviderException.Ambiguous}), which
 * matters for paid submissions. Plain-HTTP targets (emulators, LAN ComfyUI) use HTTP/1.1; HTTPS
 * keeps HTTP/2.
 */
public final class ProviderHttp {

    /** One answer, body fully read (bounded). */
    public record Response(int status, HttpHeaders headers, byte[] body) {
        public boolean ok() { return status >= 200 && status < 300; }

        public String text() { return new String(body, StandardCharsets.UTF_8); }

        public String header(String name) { return headers.firstValue(name).orElse(null); }

        /** The body as JSON, or {@link ProviderException.Malformed}. */
        public JsonNode json(String provider) {
            try {
                JsonNode n = Json.MAPPER.readTree(body);
                if (n == null || n.isMissingNode()) throw new ProviderException.Malformed(provider, "empty response body", status);
                return n;
            } catch (JacksonException e) {
                throw new ProviderException.Malformed(provider, "response is not JSON: " + abbreviate(text()), status);
            }
        }
    }

    private static final long MAX_BODY = 128L * 1024 * 1024;
    private final HttpClient http1;
    private final HttpClient http2;

    public ProviderHttp(Duration connectTimeout) {
        var executor = Executors.newVirtualThreadPerTaskExecutor();
        this.http1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout).followRedirects(HttpClient.Redirect.NORMAL).executor(executor).build();
        this.http2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                .connectTimeout(connectTimeout).followRedirects(HttpClient.Redirect.NORMAL).executor(executor).build();
    }

    public ProviderHttp() {
        this(Duration.ofSeconds(10));
    }

    public HttpRequest.Builder request(URI uri, Duration timeout, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout);
        headers.forEach(b::header);
        return b;
    }

    public Response get(String provider, URI uri, Map<String, String> headers, Duration timeout) {
        return send(provider, request(uri, timeout, headers).GET().build(), true);
    }

    public Response postJson(String provider, URI uri, Map<String, String> headers, Object body,
                             Duration timeout, boolean idempotent) {
        HttpRequest req = request(uri, timeout, headers)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Json.MAPPER.writeValueAsBytes(body)))
                .build();
        return send(provider, req, idempotent);
    }

    /**
     * Sends and reads the whole answer.
     *
     * @param idempotent whether repeating the request is harmless; if not, a failure after the
     *     request may have been sent is {@link ProviderException.Ambiguous}
     */
    public Response send(String provider, HttpRequest request, boolean idempotent) {
        try {
            HttpResponse<InputStream> r = client(request.uri()).send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                byte[] body = in.readNBytes((int) Math.min(MAX_BODY, Integer.MAX_VALUE - 8));
                if (in.read() != -1) throw new ProviderException.Malformed(provider, "response body larger than " + MAX_BODY + " bytes", r.statusCode());
                return new Response(r.statusCode(), r.headers(), body);
            }
        } catch (IOException e) {
            throw classify(provider, request, idempotent, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProviderException.Unavailable(provider, "interrupted", 0, e);
        } catch (IllegalArgumentException e) {
            throw new ProviderException.Unavailable(provider, "cannot reach " + hostOf(request.uri()) + ": " + e.getMessage(), 0, e);
        }
    }

    /** Opens a streaming download; the caller closes it. Errors map as for idempotent reads. */
    public Download download(String provider, URI uri, Map<String, String> headers, Duration timeout) {
        HttpRequest req = request(uri, timeout, headers).GET().build();
        try {
            HttpResponse<InputStream> r = client(uri).send(req, HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() / 100 != 2) {
                byte[] head;
                try (InputStream in = r.body()) {
                    head = in.readNBytes(2048);
                }
                throw errorFor(provider, new Response(r.statusCode(), r.headers(), head), "download of " + safeUrl(uri) + " failed");
            }
            return new Download(r.body(), r.headers().firstValue("content-type").orElse(null),
                    r.headers().firstValueAsLong("content-length").orElse(-1));
        } catch (IOException e) {
            throw classify(provider, req, true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProviderException.Unavailable(provider, "interrupted", 0, e);
        } catch (IllegalArgumentException e) {
            throw new ProviderException.Unavailable(provider, "cannot reach " + hostOf(uri) + ": " + e.getMessage(), 0, e);
        }
    }

    /**
     * Opens an output the way most providers hand them over: inline base64 (bare or a data: URI)
     * is decoded; a URL is downloaded without credentials, since outputs live on CDNs or
     * presigned storage where an API key must not travel.
     */
    public Download openOutput(String provider, OutputRef ref, Duration timeout) {
        if (ref.isInline()) {
            String b64 = ref.base64();
            int comma = b64.startsWith("data:") ? b64.indexOf(',') : -1;
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(b64.substring(comma + 1).replaceAll("\\s", ""));
            } catch (IllegalArgumentException e) {
                throw new ProviderException.Malformed(provider, "inline output is not base64", 0);
            }
            return new Download(new ByteArrayInputStream(bytes), ref.mime(), bytes.length);
        }
        return download(provider, outputUri(provider, ref.url()), Map.of(), timeout);
    }

    /** An output URL as a URI, or a Malformed answer when the provider sent something else. */
    public static URI outputUri(String provider, String url) {
        try {
            return URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new ProviderException.Malformed(provider, "output URL is invalid", 0);
        }
    }

    private HttpClient client(URI uri) {
        return "https".equalsIgnoreCase(uri.getScheme()) ? http2 : http1;
    }

    private static ProviderException classify(String provider, HttpRequest req, boolean idempotent, IOException e) {
        String where = hostOf(req.uri());
        if (e instanceof HttpConnectTimeoutException || e instanceof ConnectException || e instanceof UnknownHostException
                || e.getCause() instanceof UnresolvedAddressException || e.getCause() instanceof ConnectException) {
            // The request never left this machine.
            return new ProviderException.Unavailable(provider, "cannot connect to " + where + ": " + e.getClass().getSimpleName(), 0, e);
        }
        String what = e instanceof HttpTimeoutException ? "no answer from " + where + " in time" : "connection to " + where + " failed: " + e.getClass().getSimpleName();
        return idempotent ? new ProviderException.Unavailable(provider, what, 0, e) : new ProviderException.Ambiguous(provider, what, e);
    }

    /**
     * The default mapping of an error answer: 401/403 refuse the credential, 404/410 lose the
     * resource, 429 rate-limits, other 4xx reject the request, 408 and 5xx are transient.
     */
    public static ProviderException errorFor(String provider, Response r, String message) {
        String detail = message + ": " + abbreviate(r.text());
        return switch (r.status()) {
            case 401, 403 -> new ProviderException.AuthFailed(provider, detail, r.status());
            case 404, 410 -> new ProviderException.NotFound(provider, detail, r.status());
            case 429 -> new ProviderException.RateLimited(provider, detail, retryAfter(r));
            case 408 -> new ProviderException.Unavailable(provider, detail, r.status(), null);
            default -> r.status() >= 500
                    ? new ProviderException.Unavailable(provider, detail, r.status(), null)
                    : new ProviderException.Rejected(provider, detail, null, r.status());
        };
    }

    /** {@code Retry-After} in seconds or as an HTTP date, or null. */
    public static Duration retryAfter(Response r) {
        String v = r.header("retry-after");
        if (v == null || v.isBlank()) return null;
        try {
            return Duration.ofMillis((long) (Double.parseDouble(v.trim()) * 1000));
        } catch (NumberFormatException e) {
            try {
                Duration d = Duration.between(java.time.Instant.now(), ZonedDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                return d.isNegative() ? Duration.ZERO : d;
            } catch (RuntimeException ignored) {
                return null;
            }
        }
    }

    public static String abbreviate(String s) {
        if (s == null) return "";
        String t = s.strip().replaceAll("\\s+", " ");
        return t.length() > 300 ? t.substring(0, 300) + "…" : t;
    }

    private static String hostOf(URI uri) {
        return uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
    }

    /** A URL for messages: scheme, host and path; the query (which may carry signatures) is cut. */
    public static String safeUrl(URI uri) {
        return uri.getScheme() + "://" + hostOf(uri) + (uri.getPath() == null ? "" : uri.getPath());
    }
}

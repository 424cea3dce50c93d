package dev.kiln.provider.runpod.pods;

import dev.kiln.provider.ProviderException;
import dev.kiln.support.Json;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * RunPod's Pods API (docs/PROVIDERS.md, "RunPod pods"): REST at {@code RUNPOD_REST_URL}
 * ({@code https://rest.runpod.io/v1}; paths and the Pod, Template and NetworkVolume objects from
 * runpod/docs {@code api-reference/openapi.json}) and GraphQL at {@code RUNPOD_GRAPHQL_URL}
 * ({@code https://api.runpod.io/graphql}) for what REST has no equivalent of: the GPU types and the
 * account ({@code gpuTypes} and {@code myself}, as runpod/runpod-python {@code runpod/api/queries/gpus.py}
 * and {@code user.py} ask for them). Every call carries {@code Authorization: Bearer <RUNPOD_API_KEY>}.
 * Answers are RunPod's JSON as it came; failures are {@link ProviderException}s, sorted by what the
 * caller does next: unreachable or 5xx → {@code Unavailable}, 401/403 → {@code AuthFailed}, 404 →
 * {@code NotFound}, 429 → {@code RateLimited}, other 4xx → {@code Rejected} (RunPod's message kept).
 */
public final class RunPodPods {
    public static final String ID = "runpod-pods";
    /** GPU types with the fields runpod-python's {@code generate_gpu_query} reads, prices included. */
    static final String GPU_TYPES = """
            query GpuTypes { gpuTypes { id displayName memoryInGb manufacturer maxGpuCount secureCloud communityCloud \
            securePrice communityPrice lowestPrice(input: {gpuCount: 1}) { minimumBidPrice uninterruptablePrice stockStatus } } }""";
    /** The account: runpod-python's {@code QUERY_USER} plus its balance and spend. */
    static final String MYSELF = """
            query myself { myself { id email clientBalance currentSpendPerHr spendLimit pubKey \
            networkVolumes { id name size dataCenterId } } }""";

    /**
     * Where RunPod is and the key to present.
     *
     * @param restUrl e.g. {@code https://rest.runpod.io/v1}
     * @param graphqlUrl e.g. {@code https://api.runpod.io/graphql}
     * @param apiKey the RunPod API key, or null when none is configured (every call then fails with AuthFailed)
     */
    public record Endpoint(String restUrl, String graphqlUrl, String apiKey) {
        public Endpoint {
            restUrl = trim(restUrl);
            graphqlUrl = trim(graphqlUrl);
        }

        private static String trim(String u) {
            return u == null ? null : u.replaceAll("/+$", "");
        }

        public boolean configured() {
            return apiKey != null && !apiKey.isBlank();
        }
    }

    private final Supplier<Endpoint> endpoint;
    private final RestClient rest;

    /** @param endpoint read on every call, so the sandbox can point it at its emulator once started */
    public RunPodPods(Supplier<Endpoint> endpoint, Duration timeout) {
        this.endpoint = endpoint;
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        JdkClientHttpRequestFactory f = new JdkClientHttpRequestFactory(http);
        f.setReadTimeout(timeout);
        this.rest = RestClient.builder().requestFactory(f).build();
    }

    public Endpoint endpoint() {
        return endpoint.get();
    }

    // ---- REST

    /** {@code GET /pods}: every pod of the account (the array as RunPod answers it). */
    public JsonNode listPods() {
        return get("/pods");
    }

    /** {@code GET /pods/{podId}}; NotFound when RunPod has no such pod. */
    public JsonNode getPod(String podId) {
        return get("/pods/" + segment(podId));
    }

    /** {@code POST /pods} with a PodCreateInput; the created Pod. */
    public JsonNode createPod(JsonNode input) {
        return call("POST", "/pods", input);
    }

    public JsonNode startPod(String podId) {
        return call("POST", "/pods/" + segment(podId) + "/start", null);
    }

    public JsonNode stopPod(String podId) {
        return call("POST", "/pods/" + segment(podId) + "/stop", null);
    }

    public JsonNode restartPod(String podId) {
        return call("POST", "/pods/" + segment(podId) + "/restart", null);
    }

    /** {@code DELETE /pods/{podId}} (204): the pod is terminated and its disk is gone. */
    public void terminatePod(String podId) {
        call("DELETE", "/pods/" + segment(podId), null);
    }

    public JsonNode templates() {
        return get("/templates");
    }

    public JsonNode networkVolumes() {
        return get("/networkvolumes");
    }

    public JsonNode networkVolume(String id) {
        return get("/networkvolumes/" + segment(id));
    }

    // ---- GraphQL

    /** GraphQL {@code gpuTypes}: the list under {@code data.gpuTypes}. */
    public JsonNode gpuTypes() {
        return graphql(GPU_TYPES).path("gpuTypes");
    }

    /** GraphQL {@code myself}: the account under {@code data.myself}. */
    public JsonNode myself() {
        return graphql(MYSELF).path("myself");
    }

    /** The hourly price of each GPU type on the secure cloud, by id. */
    public Map<String, Double> securePrices() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (JsonNode g : gpuTypes()) out.put(g.path("id").asString(), g.path("securePrice").asDouble(0));
        return out;
    }

    private JsonNode graphql(String query) {
        Endpoint e = ready();
        ObjectNode body = Json.object();
        body.put("query", query);
        JsonNode answer = exchange(e, "POST", e.graphqlUrl(), body);
        JsonNode errors = answer.path("errors");
        if (errors.isArray() && !errors.isEmpty()) {
            // runpod-python raises QueryError with the first error's message (runpod/api/graphql.py).
            throw new ProviderException.Rejected(ID, errors.get(0).path("message").asString("GraphQL error"), "graphql", 200);
        }
        return answer.path("data");
    }

    private JsonNode get(String path) {
        return call("GET", path, null);
    }

    private JsonNode call(String method, String path, JsonNode body) {
        Endpoint e = ready();
        return exchange(e, method, e.restUrl() + path, body);
    }

    private Endpoint ready() {
        Endpoint e = endpoint.get();
        if (e == null || !e.configured() || e.restUrl() == null) {
            throw new ProviderException.AuthFailed(ID, "no RunPod API key is configured (RUNPOD_API_KEY)", 0);
        }
        return e;
    }

    private JsonNode exchange(Endpoint e, String method, String url, JsonNode body) {
        try {
            RestClient.RequestBodySpec req = rest.method(org.springframework.http.HttpMethod.valueOf(method)).uri(url)
                    .header(HttpHeaders.AUTHORIZATION, "Bearer " + e.apiKey()).accept(MediaType.APPLICATION_JSON);
            if (body != null) req = req.contentType(MediaType.APPLICATION_JSON).body(Json.write(body));
            return req.exchange((request, response) -> {
                HttpStatusCode status = response.getStatusCode();
                byte[] raw = response.getBody().readAllBytes();
                String text = new String(raw, java.nio.charset.StandardCharsets.UTF_8);
                if (status.is2xxSuccessful()) {
                    if (text.isBlank()) return Json.object();
                    JsonNode n = Json.parse(text);
                    if (n == null) throw new ProviderException.Malformed(ID, "unreadable answer from " + method + " " + url, status.value());
                    return n;
                }
                throw failure(status.value(), text, response.getHeaders().getFirst("Retry-After"), method, url);
            }, true);
        } catch (ResourceAccessException x) {
            throw new ProviderException.Unavailable(ID, "RunPod is unreachable (" + method + " " + url + "): " + x.getMostSpecificCause(), 0, x);
        } catch (tools.jackson.core.JacksonException x) {
            throw new ProviderException.Malformed(ID, "unreadable answer from " + method + " " + url + ": " + x.getOriginalMessage(), 0);
        }
    }

    /** RunPod's message from its error body ({@code error}, {@code message} or the text itself). */
    static String message(String text) {
        try {
            JsonNode n = Json.parse(text);
            if (n != null && n.isObject()) {
                for (String f : List.of("error", "message", "detail")) {
                    if (n.path(f).isString()) return n.path(f).asString();
                }
            }
        } catch (RuntimeException ignored) {
            // not JSON: the text is the message
        }
        String t = text == null ? "" : text.strip();
        return t.length() > 300 ? t.substring(0, 300) + "…" : t;
    }

    private static ProviderException failure(int status, String text, String retryAfter, String method, String url) {
        String msg = message(text);
        if (msg.isEmpty()) msg = "HTTP " + status + " from " + method + " " + url;
        if (status == 401 || status == 403) return new ProviderException.AuthFailed(ID, msg, status);
        if (status == 404) return new ProviderException.NotFound(ID, msg, status);
        if (status == 429) {
            Duration d = null;
            try {
                if (retryAfter != null) d = Duration.ofSeconds(Long.parseLong(retryAfter.trim()));
            } catch (NumberFormatException ignored) {
                // an HTTP date: use the default backoff
            }
            return new ProviderException.RateLimited(ID, msg, d);
        }
        if (status >= 500) return new ProviderException.Unavailable(ID, msg, status, null);
        return new ProviderException.Rejected(ID, msg, "http_" + status, status);
    }

    private static String segment(String id) {
        if (id == null || !id.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new ProviderException.Rejected(ID, "invalid id: " + id, "invalid_id", 400);
        }
        return id;
    }
}

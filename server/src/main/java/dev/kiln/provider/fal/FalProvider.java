package dev.kiln.provider.fal;

import dev.kiln.provider.Download;
import dev.kiln.provider.Health;
import dev.kiln.provider.InputImage;
import dev.kiln.provider.OutputRef;
import dev.kiln.provider.PollPolicy;
import dev.kiln.provider.Provider;
import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.ProviderException;
import dev.kiln.provider.ProviderHttp;
import dev.kiln.provider.Reconciliation;
import dev.kiln.provider.RemoteRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.provider.WebhookNotice;
import dev.kiln.provider.WebhookRejected;
import dev.kiln.support.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The fal.ai queue API (docs/PROVIDERS.md, "fal"): {@code POST {base}/{model id}} answers with
 * the request's {@code request_id} and usually its {@code status_url}, {@code response_url} and
 * {@code cancel_url}, which Kiln keeps and uses as given; an answer with only the id gets the URLs
 * fal's own clients build ({@link #queueApp}: the model's subpath dropped).
 * Webhooks go in {@code ?fal_webhook=} and are Ed25519-signed with keys from fal's JWKS. fal has no
 * way to list requests, so an ambiguous submit cannot be reconciled.
 */
public final class FalProvider implements Provider {
    private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)+");
    private static final Pattern PERCENT = Pattern.compile("(\\d{1,3}(?:\\.\\d+)?)\\s*%");
    private static final Pattern STEPS = Pattern.compile("(\\d+)\\s*/\\s*(\\d+)");
    /** Output fields that hold files, in fal's model schemas. */
    private static final List<String> FILE_FIELDS = List.of("images", "image", "video", "videos", "audio", "audio_url", "file", "files", "mesh");

    private final ProviderHttp http;
    private final FalConfig config;
    private final FalWebhookVerifier webhooks;

    public FalProvider(ProviderHttp http, FalConfig config) {
        this.http = http;
        this.config = config;
        this.webhooks = new FalWebhookVerifier(config.webhookTolerance(), config.jwksMaxAge(), config.jwksRefreshMinInterval(),
                this::fetchJwks);
    }

    @Override
    public String id() {
        return config.providerId();
    }

    // ---- submit

    @Override
    public Submitted submit(ProviderAccount account, SubmitRequest request) {
        String model = model(request.remote());
        JsonNode input = request.renderInput(img -> JsonNodeFactory.instance.stringNode(imageValue(img)));
        if (!(input instanceof ObjectNode)) {
            throw new ProviderException.Rejected(id(), "the binding's input for " + model + " is not a JSON object", null, 0);
        }
        String url = base(account) + "/" + model;
        if (request.webhookUrl() != null) url += "?fal_webhook=" + URLEncoder.encode(request.webhookUrl(), StandardCharsets.UTF_8);
        ProviderHttp.Response r = http.postJson(id(), URI.create(url), headers(account), input, config.submitTimeout(), false);
        if (!r.ok()) throw error(r, "submit to " + model);
        JsonNode q;
        try {
            q = r.json(id());
        } catch (ProviderException.Malformed e) {
            throw new ProviderException.Ambiguous(id(), "unreadable answer to submit: " + e.getMessage(), e);
        }
        String requestId = q.path("request_id").asString("");
        if (requestId.isBlank()) {
            throw new ProviderException.Ambiguous(id(), "submit answer without a request_id: " + ProviderHttp.abbreviate(r.text()), null);
        }
        String statusUrl = q.path("status_url").asString("");
        String responseUrl = q.path("response_url").asString("");
        String cancelUrl = q.path("cancel_url").asString("");
        if (!isHttp(statusUrl) || !isHttp(responseUrl)) {
            // Only the id (the shape fal's webhook docs show): the URLs fal's own clients build from it.
            String requests = base(account) + "/" + queueApp(model) + "/requests/" + URLEncoder.encode(requestId, StandardCharsets.UTF_8);
            responseUrl = requests;
            statusUrl = requests + "/status";
            cancelUrl = requests + "/cancel";
        }
        ObjectNode remote = Json.object();
        remote.put("status_url", statusUrl);
        remote.put("response_url", responseUrl);
        if (isHttp(cancelUrl)) remote.put("cancel_url", cancelUrl);
        return new Submitted(requestId, remote, null);
    }

    /**
     * The part of a model id that names its queue, as fal's clients compute it (fal-js
     * {@code parseEndpointId}, fal_client {@code AppId.from_endpoint_id}): {@code owner/alias}, with
     * the {@code workflows/} or {@code comfy/} namespace kept and any subpath dropped
     * ({@code fal-ai/flux/schnell} → {@code fal-ai/flux}).
     */
    static String queueApp(String model) {
        String[] parts = model.split("/");
        boolean namespaced = parts.length >= 3 && (parts[0].equals("workflows") || parts[0].equals("comfy"));
        return namespaced ? parts[0] + "/" + parts[1] + "/" + parts[2] : parts[0] + "/" + parts[1];
    }

    /** fal takes input files as URLs or data URIs; Kiln's public URL when there is one avoids a large body. */
    private String imageValue(InputImage img) {
        if (img.publicUrl() != null && !img.publicUrl().isBlank()) return img.publicUrl();
        try {
            return "data:" + img.mime() + ";base64," + Base64.getEncoder().encodeToString(img.bytes());
        } catch (IOException e) {
            throw new ProviderException.Unavailable(id(), "cannot read input image " + img.assetId() + ": " + e.getMessage(), 0, e);
        }
    }

    // ---- poll, cancel, open

    @Override
    public RemoteStatus poll(ProviderAccount account, RemoteRef ref) {
        String statusUrl = remoteUrl(ref, "status_url");
        String url = statusUrl + (statusUrl.contains("?") ? "&" : "?") + "logs=1";
        ProviderHttp.Response r = http.get(id(), URI.create(url), headers(account), config.pollTimeout());
        if (!r.ok()) throw error(r, "status of " + ref.remoteId());
        JsonNode s = r.json(id());
        String status = s.path("status").asString("").toUpperCase(Locale.ROOT);
        return switch (status) {
            case "IN_QUEUE" -> new RemoteStatus.Pending(0, s.path("queue_position").isIntegralNumber() ? s.path("queue_position").asInt() : null);
            case "IN_PROGRESS" -> new RemoteStatus.Pending(progress(s.path("logs")), null);
            case "COMPLETED" -> result(account, ref);
            default -> throw new ProviderException.Malformed(id(), "unknown request status '" + status + "'", r.status());
        };
    }

    /** A completed request's outcome: its output, or the error fal returns instead (a failed request also ends COMPLETED). */
    private RemoteStatus result(ProviderAccount account, RemoteRef ref) {
        ProviderHttp.Response r = http.get(id(), URI.create(remoteUrl(ref, "response_url")), headers(account), config.pollTimeout());
        if (r.ok()) return outputs(r.json(id()), ref.remoteId());
        String detail = detail(r);
        return switch (r.status()) {
            case 401, 403, 404, 408, 409, 410, 429 -> throw error(r, "result of " + ref.remoteId());
            // The app refused the input (validation, moderation): the same input fails again.
            case 400, 422 -> new RemoteStatus.Failed("fal_" + r.status(), detail, false);
            default -> {
                if (r.status() >= 500 && hasDetail(r)) {
                    // The model itself failed (fal does not bill 5xx): a new attempt may work.
                    yield new RemoteStatus.Failed("fal_" + r.status(), detail, true);
                }
                throw error(r, "result of " + ref.remoteId()); // a gateway error without a body: ask again later
            }
        };
    }

    /** The files of a model's output: {@code images[].url}, {@code image.url}, {@code video.url} and the like. */
    RemoteStatus outputs(JsonNode out, String requestId) {
        List<OutputRef> refs = new ArrayList<>();
        for (String f : FILE_FIELDS) collect(out.get(f), requestId, refs);
        if (refs.isEmpty()) return new RemoteStatus.Failed("fal_no_outputs", "the request completed without file outputs", false);
        return new RemoteStatus.Succeeded(refs);
    }

    private static void collect(JsonNode n, String id, List<OutputRef> refs) {
        if (n == null || n.isNull()) return;
        if (n.isArray()) {
            for (JsonNode e : n) collect(e, id, refs);
            return;
        }
        String url = n.isString() ? n.asString() : n.path("url").asString("");
        String ct = n.isObject() ? n.path("content_type").asString(null) : null;
        if (url.startsWith("https://") || url.startsWith("http://")) {
            refs.add(new OutputRef(url, null, ct, n.isObject() ? n.path("file_name").asString(null) : null));
        } else if (url.startsWith("data:")) {
            int end = url.indexOf(';'), comma = url.indexOf(',');
            if (end < 0 || (comma >= 0 && comma < end)) end = comma;
            String mime = end > 5 ? url.substring(5, end) : (ct == null ? "application/octet-stream" : ct);
            refs.add(OutputRef.inline(url, mime, id + "_" + refs.size()));
        }
    }

    /** Progress from the newest log line that states one ("45%", "step 9/20"), 0..1. */
    static double progress(JsonNode logs) {
        if (logs == null || !logs.isArray()) return 0;
        for (int i = logs.size() - 1; i >= 0 && i >= logs.size() - 50; i--) {
            String m = logs.get(i).path("message").asString("");
            Matcher p = PERCENT.matcher(m);
            if (p.find()) return Math.min(0.99, Double.parseDouble(p.group(1)) / 100);
            Matcher s = STEPS.matcher(m);
            if (s.find()) {
                long done = Long.parseLong(s.group(1)), total = Long.parseLong(s.group(2));
                if (total > 0 && done <= total) return Math.min(0.99, (double) done / total);
            }
        }
        return 0;
    }

    @Override
    public void cancel(ProviderAccount account, RemoteRef ref) {
        String url = ref.remote() == null ? "" : ref.remote().path("cancel_url").asString("");
        if (!isHttp(url)) return; // nothing to cancel with
        HttpRequest req = http.request(URI.create(url), config.pollTimeout(), headers(account))
                .PUT(HttpRequest.BodyPublishers.noBody()).build();
        ProviderHttp.Response r = http.send(id(), req, true);
        if (r.ok() || r.status() == 404) return;
        // ALREADY_COMPLETED (400): nothing left to stop.
        if (r.status() == 400 && (r.text().contains("ALREADY_COMPLETED") || r.text().contains("CANCELLATION_REQUESTED"))) return;
        throw error(r, "cancel of " + ref.remoteId());
    }

    @Override
    public Download open(ProviderAccount account, OutputRef ref) {
        // No Authorization header: outputs live on fal's CDN, and the key must not travel there.
        return http.openOutput(id(), ref, config.downloadTimeout());
    }

    /** fal offers no list of requests, so a submit whose answer was lost cannot be found again. */
    @Override
    public Reconciliation reconcile(ProviderAccount account, SubmitRequest request, Instant intentAt) {
        return new Reconciliation.Unknown("fal has no way to look up a request whose submit answer was lost");
    }

    // ---- webhooks, health, pacing

    @Override
    public WebhookNotice verifyWebhook(ProviderAccount account, WebhookDelivery delivery) {
        return webhooks.verify(account, delivery);
    }

    private String fetchJwks(String url) {
        try {
            ProviderHttp.Response r = http.get(id(), URI.create(url), Map.of("Accept", "application/json"), config.pollTimeout());
            if (!r.ok()) throw ProviderHttp.errorFor(id(), r, "fetching fal's webhook keys");
            return r.text();
        } catch (ProviderException | IllegalArgumentException e) {
            throw new WebhookRejected("cannot get fal's webhook keys: " + e.getMessage());
        }
    }

    /**
     * fal has no account endpoint on the queue host: the status of a request that cannot exist
     * answers 404 to a valid key and 401/403 to a bad one.
     */
    @Override
    public Health health(ProviderAccount account) {
        try {
            ProviderHttp.Response r = http.get(id(), URI.create(base(account) + "/fal-ai/kiln-health/requests/00000000-0000-0000-0000-000000000000/status"),
                    headers(account), config.pollTimeout());
            if (r.status() == 401 || r.status() == 403) return Health.failed("key refused (HTTP " + r.status() + ")");
            if (r.status() >= 500 || r.status() == 429) throw error(r, "health probe");
            return Health.ok("reachable");
        } catch (ProviderException e) {
            return Health.failed(e.getMessage());
        }
    }

    @Override
    public PollPolicy pollPolicy(ProviderAccount account, String kind) {
        if (account.sandbox()) return config.sandboxPolls();
        return "video".equals(kind) ? config.videoPolls() : config.imagePolls();
    }

    // ---- helpers

    private String model(String remote) {
        if (remote == null || !MODEL.matcher(remote).matches()) {
            throw new ProviderException.Rejected(id(), "not a fal model id (owner/app[/path]): " + remote, null, 0);
        }
        return remote;
    }

    private String remoteUrl(RemoteRef ref, String field) {
        String url = ref.remote() == null ? "" : ref.remote().path(field).asString("");
        if (!isHttp(url)) throw new ProviderException.NotFound(id(), "request " + ref.remoteId() + " has no " + field + " recorded", 0);
        return url;
    }

    private static boolean isHttp(String url) {
        return url != null && (url.startsWith("https://") || url.startsWith("http://"));
    }

    private static Map<String, String> headers(ProviderAccount account) {
        Map<String, String> h = new HashMap<>();
        h.put("Accept", "application/json");
        if (account.secret() != null && !account.secret().isBlank()) h.put("Authorization", "Key " + account.secret());
        return h;
    }

    private String base(ProviderAccount account) {
        String base = account.baseUrl();
        if (base == null || base.isBlank()) throw new ProviderException.Rejected(id(), "account " + account.id() + " has no base URL", null, 0);
        while (base.endsWith("/")) base = base.substring(0, base.length() - 1);
        return base;
    }

    /**
     * fal errors: 400/422 refuse the input with fal's detail, 401/403 the key, 429 slows down; 408,
     * 409 and 5xx are transient (fal_client retries 408, 409 and 429: {@code RETRY_CODES} in
     * fal_client/client.py).
     */
    private ProviderException error(ProviderHttp.Response r, String what) {
        return switch (r.status()) {
            case 400, 422 -> new ProviderException.Rejected(id(), what + " refused: " + detail(r), null, r.status());
            case 408, 409 -> new ProviderException.Unavailable(id(), what + " failed for now: " + detail(r), r.status(), null);
            case 429 -> new ProviderException.RateLimited(id(), what + " throttled: " + detail(r), ProviderHttp.retryAfter(r));
            default -> ProviderHttp.errorFor(id(), r, what + " failed");
        };
    }

    private static boolean hasDetail(ProviderHttp.Response r) {
        try {
            JsonNode n = Json.MAPPER.readTree(r.body());
            return n != null && (n.has("detail") || n.has("message") || n.has("error"));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** {@code detail} as a string, or as {@code [{loc, msg}]} (FastAPI validation), else {@code message}, else the text. */
    static String detail(ProviderHttp.Response r) {
        try {
            JsonNode n = Json.MAPPER.readTree(r.body());
            if (n != null) {
                JsonNode d = n.path("detail");
                if (d.isString() && !d.asString().isBlank()) return d.asString();
                if (d.isArray() && !d.isEmpty()) {
                    List<String> parts = new ArrayList<>();
                    for (JsonNode e : d) {
                        List<String> loc = new ArrayList<>();
                        for (JsonNode l : e.path("loc")) if (!"body".equals(l.asString(""))) loc.add(l.asString(""));
                        String msg = e.path("msg").asString(e.toString());
                        parts.add(loc.isEmpty() ? msg : String.join(".", loc) + ": " + msg);
                    }
                    return String.join("; ", parts);
                }
                for (String f : new String[] {"message", "error"}) {
                    JsonNode v = n.path(f);
                    if (v.isString() && !v.asString().isBlank()) return v.asString();
                }
            }
        } catch (RuntimeException ignored) {
            // not JSON
        }
        return ProviderHttp.abbreviate(r.text());
    }
}

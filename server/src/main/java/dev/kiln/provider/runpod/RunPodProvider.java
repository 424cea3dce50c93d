package dev.kiln.provider.runpod;

import dev.kiln.provider.ComfyCapabilities;
import dev.kiln.provider.ComfyWorkflows;
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
import dev.kiln.provider.Shortfall;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.provider.WebhookNotice;
import dev.kiln.provider.WebhookRejected;
import dev.kiln.provider.Work;
import dev.kiln.support.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A RunPod serverless endpoint running worker-comfyui (docs/PROVIDERS.md, "RunPod serverless"):
 * {@code POST {base}/{endpoint_id}/run} with {@code {"input":{"workflow","images":[{name, image}]},
 * "webhook", "policy":{executionTimeout, ttl}}} (input images inline as data URIs, so the 10 MB
 * body limit is checked before sending), {@code GET /status/{id}}, {@code POST /cancel/{id}},
 * {@code GET /health}, Bearer auth. Outputs come back inline (base64) or as S3 URLs. RunPod does not
 * sign webhooks: the per-job token in Kiln's webhook URL is the check, and the body only names the job.
 */
public final class RunPodProvider implements Provider {
    public static final String ID = "runpod";
    private static final Pattern ENDPOINT = Pattern.compile("[A-Za-z0-9_-]{1,128}");
    private static final Set<String> STATUSES = Set.of("IN_QUEUE", "IN_PROGRESS", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT");
    /** RunPod: {@code executionTimeout} "must be > 5000 ms" (docs.runpod.io, send-requests, execution policies). */
    private static final Duration MIN_EXECUTION = Duration.ofMillis(5_001);
    private static final Duration MAX_POLICY = Duration.ofDays(7);

    private final ProviderHttp http;
    private final RunPodConfig config;

    public RunPodProvider(ProviderHttp http, RunPodConfig config) {
        this.http = http;
        this.config = config;
    }

    @Override
    public String id() {
        return ID;
    }

    // ---- submit

    @Override
    public Submitted submit(ProviderAccount account, SubmitRequest request) {
        String endpoint = endpoint(account);
        ComfyWorkflows.Rendered r = ComfyWorkflows.render(id(), request);
        ObjectNode body = Json.object();
        ObjectNode input = body.putObject("input");
        input.set("workflow", r.workflow());
        if (!r.files().isEmpty()) {
            ArrayNode images = input.putArray("images");
            r.files().forEach((name, img) -> {
                ObjectNode o = images.addObject();
                o.put("name", name);
                o.put("image", "data:" + img.mime() + ";base64," + Base64.getEncoder().encodeToString(bytes(img)));
            });
        }
        if (request.webhookUrl() != null) body.put("webhook", request.webhookUrl());
        body.set("policy", policy(request.deadline(), Instant.now()));
        byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
        if (bytes.length > config.maxRunBytes()) {
            throw new ProviderException.Rejected(id(), String.format(Locale.ROOT,
                    "the RunPod /run request would be %,d bytes, over RunPod's %d MB limit (%,d bytes; input images travel inline as base64): "
                            + "use smaller or fewer input images", bytes.length, config.maxRunBytes() / 1_000_000, config.maxRunBytes()),
                    "payload_too_large", 0);
        }
        HttpRequest req = http.request(URI.create(api(account, endpoint, "run")), config.submitTimeout(), headers(account))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build();
        ProviderHttp.Response res = http.send(id(), req, false);
        if (res.status() == 404) {
            // An unknown endpoint id: this account is misconfigured, not this job wrong.
            throw new ProviderException.AuthFailed(id(), "endpoint " + endpoint + " was not found for this key: " + message(res), 404);
        }
        if (!res.ok()) throw error(res, "/run");
        JsonNode answer;
        try {
            answer = res.json(id());
        } catch (ProviderException.Malformed e) {
            throw new ProviderException.Ambiguous(id(), "unreadable answer to /run: " + e.getMessage(), e);
        }
        String jobId = answer.path("id").asString("");
        if (jobId.isBlank()) throw new ProviderException.Ambiguous(id(), "/run answered without a job id: " + ProviderHttp.abbreviate(res.text()), null);
        ObjectNode remote = Json.object();
        remote.put("endpoint", endpoint);
        RemoteStatus s = RunPodResults.status(answer);
        return new Submitted(jobId, remote, s instanceof RemoteStatus.Pending ? null : s);
    }

    /**
     * The job may run until Kiln's deadline ({@code executionTimeout}, more than RunPod's 5000 ms) and
     * stays readable a while past it ({@code ttl}), so outputs can still be fetched.
     */
    ObjectNode policy(Instant deadline, Instant now) {
        Duration left = deadline == null ? Duration.ofMinutes(10) : Duration.between(now, deadline);
        Duration execution = clamp(left, MIN_EXECUTION, MAX_POLICY);
        Duration ttl = clamp(left.plus(config.resultMargin()), Duration.ofSeconds(10), MAX_POLICY);
        ObjectNode p = Json.object();
        p.put("executionTimeout", execution.toMillis());
        p.put("ttl", ttl.toMillis());
        return p;
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
    }

    private byte[] bytes(InputImage img) {
        try {
            return img.bytes();
        } catch (IOException e) {
            throw new ProviderException.Unavailable(id(), "cannot read input image " + img.assetId() + ": " + e.getMessage(), 0, e);
        }
    }

    // ---- poll, cancel, open

    @Override
    public RemoteStatus poll(ProviderAccount account, RemoteRef ref) {
        String endpoint = endpointOf(account, ref);
        ProviderHttp.Response r = http.get(id(), URI.create(api(account, endpoint, "status/" + enc(ref.remoteId()))), headers(account),
                config.callTimeout());
        if (r.status() == 404) throw new ProviderException.NotFound(id(), "job " + ref.remoteId() + " is unknown or expired at RunPod", 404);
        if (!r.ok()) throw error(r, "/status");
        return RunPodResults.status(r.json(id()));
    }

    @Override
    public void cancel(ProviderAccount account, RemoteRef ref) {
        String endpoint = endpointOf(account, ref);
        HttpRequest req = http.request(URI.create(api(account, endpoint, "cancel/" + enc(ref.remoteId()))), config.callTimeout(), headers(account))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        ProviderHttp.Response r = http.send(id(), req, true);
        if (r.status() == 404) return; // expired or unknown: nothing to stop
        if (!r.ok()) throw error(r, "/cancel");
    }

    @Override
    public Download open(ProviderAccount account, OutputRef ref) {
        // No Authorization header: S3 URLs are presigned, and the key must not travel there.
        return http.openOutput(id(), ref, config.downloadTimeout());
    }

    /** RunPod lists no jobs by input, so an ambiguous /run cannot be looked up; Kiln then fails the job rather than pay twice. */
    @Override
    public Reconciliation reconcile(ProviderAccount account, SubmitRequest request, Instant intentAt) {
        return new Reconciliation.Unknown("RunPod offers no way to find a job by its input");
    }

    // ---- webhooks, health, pacing

    /**
     * RunPod signs nothing: Kiln checked the per-job token in the URL before this. The body must
     * be a RunPod status payload naming the job; its state is only a hint (Kiln polls).
     */
    @Override
    public WebhookNotice verifyWebhook(ProviderAccount account, WebhookDelivery delivery) {
        JsonNode body;
        try {
            body = Json.MAPPER.readTree(delivery.body());
        } catch (JacksonException e) {
            throw new WebhookRejected("body is not JSON");
        }
        if (body == null || !body.isObject()) throw new WebhookRejected("body is not a JSON object");
        String jobId = body.path("id").asString("");
        String status = body.path("status").asString("");
        if (jobId.isBlank()) throw new WebhookRejected("body carries no job id");
        if (!STATUSES.contains(status.toUpperCase(Locale.ROOT))) throw new WebhookRejected("body is not a RunPod job status");
        return new WebhookNotice(jobId, jobId + ":" + status);
    }

    @Override
    public Health health(ProviderAccount account) {
        try {
            String endpoint = endpoint(account);
            ProviderHttp.Response r = http.get(id(), URI.create(api(account, endpoint, "health")), headers(account), config.callTimeout());
            if (r.status() == 404) return Health.failed("endpoint " + endpoint + " not found");
            if (!r.ok()) throw error(r, "/health");
            JsonNode h = r.json(id());
            JsonNode w = h.path("workers"), j = h.path("jobs");
            return Health.ok("workers idle " + w.path("idle").asInt(0) + ", running " + w.path("running").asInt(0)
                    + "; jobs in queue " + j.path("inQueue").asInt(0) + ", in progress " + j.path("inProgress").asInt(0));
        } catch (ProviderException.AuthFailed e) {
            return Health.failed("key refused (HTTP " + e.httpStatus() + ")");
        } catch (ProviderException e) {
            return Health.failed(e.getMessage());
        }
    }

    /**
     * Node classes whose files ComfyUI reports under a key the stock worker-comfyui does not
     * collect: VideoHelperSuite's {@code VHS_VideoCombine} saves under {@code gifs}
     * (videohelpersuite/nodes.py, {@code {"ui": {"gifs": previews}}}); handler.py only logs
     * "unhandled output keys" for it.
     */
    static final Set<String> GIFS_NODES = Set.of("VHS_VideoCombine");

    /**
     * A worker cannot be asked what it has, so the account's settings say it: {@code comfy_models}
     * and {@code comfy_nodes} (checked like ComfyUI's {@code /object_info}, see
     * {@link ComfyCapabilities#fromSettings}), and {@code video_outputs: true} for a worker that
     * returns VideoHelperSuite's {@code gifs} files. Without that, a workflow saving through
     * {@code VHS_VideoCombine} would end without its video after the GPU time was paid.
     */
    @Override
    public List<Shortfall> shortfalls(ProviderAccount account, JsonNode capabilities, Work work) {
        List<Shortfall> out = new ArrayList<>(ComfyCapabilities.check(
                ComfyCapabilities.fromSettings(account.config("comfy_models"), account.config("comfy_nodes")), work.input()));
        if (!"true".equalsIgnoreCase(String.valueOf(account.config("video_outputs")).trim()) && work.input().isObject()) {
            for (Map.Entry<String, JsonNode> e : work.input().properties()) {
                String cls = e.getValue().path("class_type").asString("");
                if (GIFS_NODES.contains(cls)) {
                    out.add(new Shortfall(e.getKey() + ".class_type", cls + " saves its video under 'gifs', which the stock "
                            + "worker-comfyui does not return; this endpoint's worker is not set video_outputs: true"));
                }
            }
        }
        return out;
    }

    @Override
    public PollPolicy pollPolicy(ProviderAccount account, String kind) {
        if (account.sandbox()) return config.sandboxPolls();
        return "video".equals(kind) ? config.videoPolls() : config.imagePolls();
    }

    // ---- HTTP helpers

    private String endpoint(ProviderAccount account) {
        String e = account.config("endpoint_id");
        if (e == null || !ENDPOINT.matcher(e.trim()).matches()) {
            throw new ProviderException.Rejected(id(), "account " + account.id() + " has no valid endpoint_id setting", null, 0);
        }
        return e.trim();
    }

    /** The endpoint the job was sent to (kept with the job), else the account's. */
    private String endpointOf(ProviderAccount account, RemoteRef ref) {
        String e = ref.remote() == null ? null : ref.remote().path("endpoint").asString(null);
        return e != null && ENDPOINT.matcher(e).matches() ? e : endpoint(account);
    }

    private String api(ProviderAccount account, String endpoint, String op) {
        String base = account.baseUrl();
        if (base == null || base.isBlank()) throw new ProviderException.Rejected(id(), "account " + account.id() + " has no base URL", null, 0);
        while (base.endsWith("/")) base = base.substring(0, base.length() - 1);
        return base + "/" + endpoint + "/" + op;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static Map<String, String> headers(ProviderAccount account) {
        Map<String, String> h = new HashMap<>();
        h.put("Accept", "application/json");
        if (account.secret() != null && !account.secret().isBlank()) h.put("Authorization", "Bearer " + account.secret());
        return h;
    }

    /** 400 and 413 refuse the request (with RunPod's message); the rest as usual: 401/403, 429, 5xx. */
    private ProviderException error(ProviderHttp.Response r, String what) {
        if (r.status() == 400 || r.status() == 413 || r.status() == 422) {
            return new ProviderException.Rejected(id(), "RunPod refused " + what + ": " + message(r), r.status() == 413 ? "payload_too_large" : null, r.status());
        }
        return ProviderHttp.errorFor(id(), r, what + " failed");
    }

    private static String message(ProviderHttp.Response r) {
        try {
            JsonNode n = Json.MAPPER.readTree(r.body());
            if (n != null) {
                for (String f : new String[] {"error", "message", "detail"}) {
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

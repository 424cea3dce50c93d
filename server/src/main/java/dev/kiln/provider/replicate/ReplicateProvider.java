package dev.kiln.provider.replicate;

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
import dev.kiln.provider.SignedWebhooks;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.provider.WebhookNotice;
import dev.kiln.provider.WebhookRejected;
import dev.kiln.support.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Replicate HTTP API (docs/PROVIDERS.md, "Replicate"). A binding's remote decides the call:
 * {@code owner/name} is an official model ({@code POST /models/{owner}/{name}/predictions}),
 * {@code owner/name:<64 hex>} or a bare version id a version prediction ({@code POST /predictions}).
 * Short jobs are created with {@code Prefer: wait}; webhooks are Standard-Webhooks signed; an
 * ambiguous create is reconciled by listing recent predictions.
 */
public final class ReplicateProvider implements Provider {
    private static final Pattern OFFICIAL = Pattern.compile("([A-Za-z0-9][A-Za-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._-]*)");
    private static final Pattern VERSIONED = Pattern.compile("(?:([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*):)?([0-9a-f]{64})");
    /** Pages of 100 searched when reconciling. */
    private static final int RECONCILE_MAX_PAGES = 20;

    /** What a binding's remote names. */
    record Target(String model, String version) {
        boolean official() {
            return version == null;
        }
    }

    private final ProviderHttp http;
    private final ReplicateConfig config;
    private final SignedWebhooks webhooks;

    public ReplicateProvider(ProviderHttp http, ReplicateConfig config) {
        this.http = http;
        this.config = config;
        this.webhooks = new SignedWebhooks(config.webhookTolerance(), this::fetchWebhookSecret, new ReplicateWebhookScheme());
    }

    @Override
    public String id() {
        return config.providerId();
    }

    // ---- submit

    @Override
    public Submitted submit(ProviderAccount account, SubmitRequest request) {
        Target target = target(request.remote());
        // An image used twice in one request is uploaded once.
        Map<String, String> sent = new HashMap<>();
        JsonNode input = request.renderInput(img -> JsonNodeFactory.instance.stringNode(
                sent.computeIfAbsent(img.sha256(), k -> imageValue(account, img))));
        if (!(input instanceof ObjectNode)) {
            throw new ProviderException.Rejected(id(), "the binding's input for " + request.remote() + " is not a JSON object", null, 0);
        }
        ObjectNode body = Json.object();
        String url;
        if (target.official()) {
            url = api(account, "models/" + target.model() + "/predictions");
        } else {
            url = api(account, "predictions");
            body.put("version", target.version());
        }
        body.set("input", input);
        if (request.webhookUrl() != null) {
            body.put("webhook", request.webhookUrl());
            // "completed" is all Kiln needs; "start" also tells a long job left the queue.
            var filter = body.putArray("webhook_events_filter");
            if (request.eta() != null && request.eta().compareTo(config.syncEtaLimit()) > 0) filter.add("start");
            filter.add("completed");
        }
        Map<String, String> headers = headers(account);
        Duration timeout = config.submitTimeout();
        boolean sync = request.eta() != null && request.eta().compareTo(config.syncEtaLimit()) <= 0;
        if (sync) {
            long wait = Math.max(1, Math.min(config.maxSyncWait().toSeconds(), request.eta().toSeconds() * 2 + 5));
            headers.put("Prefer", "wait=" + wait);
            timeout = timeout.plusSeconds(wait);
        }
        ProviderHttp.Response r = http.postJson(id(), URI.create(url), headers, body, timeout, false);
        if (!r.ok()) throw error(r, "create prediction for " + request.remote());
        JsonNode p;
        try {
            p = r.json(id());
        } catch (ProviderException.Malformed e) {
            // The request arrived and something answered: a prediction may exist.
            throw new ProviderException.Ambiguous(id(), "unreadable answer to create prediction: " + e.getMessage(), e);
        }
        if (p.path("id").asString("").isBlank()) {
            throw new ProviderException.Ambiguous(id(), "create answer without id: " + ProviderHttp.abbreviate(r.text()), null);
        }
        return submitted(p);
    }

    private Submitted submitted(JsonNode p) {
        ObjectNode remote = Json.object();
        String get = p.path("urls").path("get").asString(null);
        if (get != null) remote.put("get", get);
        RemoteStatus status = ReplicateResults.status(p);
        // A waited-for answer may already be final; only a real ending counts (outputs can show up while processing).
        return new Submitted(p.path("id").asString(), remote, ReplicateResults.isFinal(status) ? status : null);
    }

    /**
     * How an input image travels, as Replicate advises (its API reference, predictions.create
     * {@code input}: data URLs for files up to 256 KB; its input-files guide: data URIs only under
     * 1 MB): small files as data URIs (nothing to fetch back), larger ones as Kiln's signed public
     * URL when Kiln is reachable, else uploaded through the Files API and sent as the file's URL.
     * A data URI is never larger than {@code dataUriLimit}.
     */
    private String imageValue(ProviderAccount account, InputImage img) {
        byte[] bytes;
        if (img.size() > config.dataUriLimit() && img.publicUrl() != null && !img.publicUrl().isBlank()) return img.publicUrl();
        try {
            bytes = img.bytes();
        } catch (IOException e) {
            throw new ProviderException.Unavailable(id(), "cannot read input image " + img.assetId() + ": " + e.getMessage(), 0, e);
        }
        if (bytes.length <= config.dataUriLimit()) return "data:" + img.mime() + ";base64," + Base64.getEncoder().encodeToString(bytes);
        return uploadFile(account, img, bytes);
    }

    /**
     * {@code POST /files} (multipart {@code content}, {@code filename}, {@code type}), as
     * replicate-python's {@code Files.create} sends it; the file's {@code urls.get} is the input
     * value the client libraries use. Nothing is paid yet, so any failure is safe to retry.
     */
    private String uploadFile(ProviderAccount account, InputImage img, byte[] bytes) {
        String boundary = "kiln-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + Long.toHexString(System.nanoTime());
        ByteArrayOutputStream form = new ByteArrayOutputStream(bytes.length + 512);
        form.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"content\"; filename=\"" + img.fileName() + "\"\r\n"
                + "Content-Type: " + img.mime() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        form.writeBytes(bytes);
        form.writeBytes(("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"filename\"\r\n\r\n" + img.fileName()
                + "\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n" + img.mime()
                + "\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest req = http.request(URI.create(api(account, "files")), config.uploadTimeout(), headers(account))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(form.toByteArray())).build();
        ProviderHttp.Response r = http.send(id(), req, true);
        if (!r.ok()) throw error(r, "upload of input image " + img.assetId());
        String url = r.json(id()).path("urls").path("get").asString("");
        if (!(url.startsWith("https://") || url.startsWith("http://"))) {
            throw new ProviderException.Malformed(id(), "file answer without urls.get", r.status());
        }
        return url;
    }

    // ---- poll, cancel, open

    @Override
    public RemoteStatus poll(ProviderAccount account, RemoteRef ref) {
        ProviderHttp.Response r = http.get(id(), URI.create(predictionUrl(account, ref.remoteId())), headers(account), config.pollTimeout());
        if (!r.ok()) throw error(r, "get prediction " + ref.remoteId());
        return ReplicateResults.status(r.json(id()));
    }

    @Override
    public void cancel(ProviderAccount account, RemoteRef ref) {
        HttpRequest req = http.request(URI.create(predictionUrl(account, ref.remoteId()) + "/cancel"), config.pollTimeout(), headers(account))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        ProviderHttp.Response r = http.send(id(), req, true);
        if (r.status() == 404) return; // unknown or gone: nothing to stop
        if (!r.ok()) throw error(r, "cancel prediction " + ref.remoteId());
    }

    @Override
    public Download open(ProviderAccount account, OutputRef ref) {
        // No Authorization header: outputs live on replicate.delivery, and the token must not travel there.
        return http.openOutput(id(), ref, config.downloadTimeout());
    }

    // ---- reconcile

    /**
     * Lists predictions created since shortly before the intent and looks for the one with this
     * model (or version) and input. Replicate keeps no caller metadata, so the input decides;
     * input images match any value, as their URLs may differ between attempts. An image sent as a
     * data URI is not kept by Replicate, so a prediction whose input lacks it matches everything
     * else but cannot be confirmed: then Kiln learns only which predictions might be this one
     * ({@link Reconciliation.Unconfirmed}).
     */
    @Override
    public Reconciliation reconcile(ProviderAccount account, SubmitRequest request, Instant intentAt) {
        Target target;
        try {
            target = target(request.remote());
        } catch (ProviderException e) {
            return new Reconciliation.Unknown(e.getMessage());
        }
        JsonNode wanted = request.renderInput(img -> ReplicateResults.ANY_IMAGE);
        Instant from = intentAt.minus(config.reconcileSkew());
        List<JsonNode> matches = new ArrayList<>();
        List<String> unconfirmed = new ArrayList<>();
        try {
            String url = api(account, "predictions") + "?created_after=" + URLEncoder.encode(from.toString(), StandardCharsets.UTF_8);
            for (int page = 1; url != null; page++) {
                if (page > RECONCILE_MAX_PAGES) {
                    return new Reconciliation.Unknown("more than " + RECONCILE_MAX_PAGES * 100 + " recent predictions to search");
                }
                ProviderHttp.Response r = http.get(id(), URI.create(url), headers(account), config.pollTimeout());
                if (!r.ok()) throw error(r, "listing predictions");
                JsonNode list = r.json(id());
                JsonNode results = list.path("results");
                if (!results.isArray()) throw new ProviderException.Malformed(id(), "prediction list without results", r.status());
                boolean older = false;
                for (JsonNode item : results) {
                    if (createdBefore(item, from)) {
                        older = true; // newest first: the rest is older still
                        break;
                    }
                    if (!sameTarget(target, item)) continue;
                    JsonNode in = item.get("input");
                    if (in == null || in.isNull()) {
                        // Some list answers leave the input out: read the prediction itself.
                        ProviderHttp.Response one = http.get(id(), URI.create(predictionUrl(account, item.path("id").asString())),
                                headers(account), config.pollTimeout());
                        if (!one.ok()) throw error(one, "get prediction " + item.path("id").asString());
                        item = one.json(id());
                        in = item.path("input");
                    }
                    switch (ReplicateResults.compare(wanted, in)) {
                        case SAME -> matches.add(item);
                        case CANNOT_TELL -> unconfirmed.add(item.path("id").asString());
                        case DIFFERENT -> { }
                    }
                }
                String next = list.path("next").asString(null);
                url = older || next == null || next.isBlank() ? null : next;
            }
        } catch (ProviderException e) {
            return new Reconciliation.NotYet("cannot list Replicate predictions: " + e.getMessage());
        }
        if (!unconfirmed.isEmpty()) {
            matches.forEach(m -> unconfirmed.add(m.path("id").asString()));
            return new Reconciliation.Unconfirmed(unconfirmed, unconfirmed.size() + " Replicate prediction(s) match the submitted input "
                    + "except for images sent as data URIs, which Replicate does not keep");
        }
        if (matches.isEmpty()) return new Reconciliation.NotFound();
        if (matches.size() > 1) return new Reconciliation.Unknown(matches.size() + " predictions match the submitted input");
        return new Reconciliation.Found(submitted(matches.getFirst()));
    }

    private static boolean sameTarget(Target t, JsonNode item) {
        if (t.official()) return t.model().equals(item.path("model").asString(""));
        return t.version().equals(item.path("version").asString(""));
    }

    private static boolean createdBefore(JsonNode item, Instant from) {
        try {
            return OffsetDateTime.parse(item.path("created_at").asString("")).toInstant().isBefore(from);
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    // ---- webhooks, health, pacing

    @Override
    public WebhookNotice verifyWebhook(ProviderAccount account, WebhookDelivery delivery) {
        return webhooks.verify(account, delivery);
    }

    private String fetchWebhookSecret(ProviderAccount account) {
        try {
            ProviderHttp.Response r = http.get(id(), URI.create(api(account, "webhooks/default/secret")), headers(account), config.pollTimeout());
            if (!r.ok()) throw error(r, "fetching the webhook secret");
            String key = r.json(id()).path("key").asString("");
            if (key.isBlank()) throw new ProviderException.Malformed(id(), "webhook secret answer holds no key", r.status());
            return key;
        } catch (ProviderException e) {
            throw new WebhookRejected("cannot get the account's webhook secret: " + e.getMessage());
        }
    }

    @Override
    public Health health(ProviderAccount account) {
        try {
            ProviderHttp.Response r = http.get(id(), URI.create(api(account, "account")), headers(account), config.pollTimeout());
            if (!r.ok()) throw error(r, "account");
            String user = r.json(id()).path("username").asString("");
            return Health.ok(user.isEmpty() ? "reachable" : "account " + user);
        } catch (ProviderException.AuthFailed e) {
            return Health.failed("token refused (HTTP " + e.httpStatus() + ")");
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

    /** Parses a binding's remote: {@code owner/name}, {@code owner/name:<version>} or a bare 64-hex version. */
    Target target(String remote) {
        if (remote != null) {
            Matcher v = VERSIONED.matcher(remote);
            if (v.matches()) return new Target(v.group(1), v.group(2));
            Matcher o = OFFICIAL.matcher(remote);
            if (o.matches()) return new Target(remote, null);
        }
        throw new ProviderException.Rejected(id(), "not a Replicate model (owner/name, owner/name:version or a version id): " + remote, null, 0);
    }

    private static Map<String, String> headers(ProviderAccount account) {
        Map<String, String> h = new HashMap<>();
        h.put("Accept", "application/json");
        if (account.secret() != null && !account.secret().isBlank()) h.put("Authorization", "Bearer " + account.secret());
        return h;
    }

    private String api(ProviderAccount account, String path) {
        String base = account.baseUrl();
        if (base == null || base.isBlank()) throw new ProviderException.Rejected(id(), "account " + account.id() + " has no base URL", null, 0);
        while (base.endsWith("/")) base = base.substring(0, base.length() - 1);
        return base + "/" + path;
    }

    private String predictionUrl(ProviderAccount account, String remoteId) {
        return api(account, "predictions/" + URLEncoder.encode(remoteId, StandardCharsets.UTF_8));
    }

    /**
     * Replicate errors are problem details ({@code {title, detail, status}}): 400/422 refuse the
     * input with Replicate's detail, 402 (no credit) and 401/403 refuse the account, 429 slows
     * down for {@code retry_after} or {@code Retry-After}, 5xx is transient.
     */
    private ProviderException error(ProviderHttp.Response r, String what) {
        return switch (r.status()) {
            case 400, 422 -> new ProviderException.Rejected(id(), what + " refused: " + detail(r), null, r.status());
            case 402 -> new ProviderException.AuthFailed(id(), what + " refused, the account cannot pay: " + detail(r), r.status());
            case 429 -> new ProviderException.RateLimited(id(), what + " throttled: " + detail(r), retryAfter(r));
            default -> ProviderHttp.errorFor(id(), r, what + " failed");
        };
    }

    private static Duration retryAfter(ProviderHttp.Response r) {
        try {
            JsonNode n = Json.MAPPER.readTree(r.body());
            JsonNode ra = n == null ? null : n.get("retry_after");
            if (ra != null && ra.isNumber() && ra.asDouble() >= 0) return Duration.ofMillis((long) (ra.asDouble() * 1000));
        } catch (RuntimeException ignored) {
            // not JSON: the header decides
        }
        return ProviderHttp.retryAfter(r);
    }

    /** The {@code detail} (else {@code title}) of a problem answer, else the raw text. */
    private static String detail(ProviderHttp.Response r) {
        try {
            JsonNode n = Json.MAPPER.readTree(r.body());
            if (n != null) {
                for (String f : new String[] {"detail", "title", "error"}) {
                    JsonNode v = n.path(f);
                    if (v.isString() && !v.asString().isBlank()) return v.asString();
                    if (v.isArray() || v.isObject()) return ProviderHttp.abbreviate(v.toString());
                }
            }
        } catch (RuntimeException ignored) {
            // not JSON: use the text
        }
        return ProviderHttp.abbreviate(r.text());
    }
}

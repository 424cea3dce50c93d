package dev.kiln.provider.wavespeed;

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
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The WaveSpeed AI v3 REST API (docs/PROVIDERS.md, "WaveSpeed"): flat model inputs posted to
 * {@code /api/v3/{model}}, results polled from {@code /api/v3/predictions/{id}/result}, input
 * images uploaded first, {@code v3,<hex>} signed webhooks, and a prediction list that tells an
 * ambiguous submit apart only when it proves nothing arrived (the list shows no inputs). Kiln's
 * sandbox runs the same adapter against {@code WaveSpeedEmulator}.
 */
public final class WaveSpeedProvider implements Provider {
    private static final Pattern MODEL_PATH = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)*");
    /**
     * Pages of 100 searched when reconciling: 10,000 predictions inside the search window (intent
     * to now); more than that and Kiln cannot be sure.
     */
    private static final int RECONCILE_MAX_PAGES = 100;

    private final ProviderHttp http;
    private final WaveSpeedConfig config;
    private final SignedWebhooks webhooks;

    public WaveSpeedProvider(ProviderHttp http, WaveSpeedConfig config) {
        this.http = http;
        this.config = config;
        this.webhooks = new SignedWebhooks(config.webhookTolerance(), this::fetchWebhookSecret, new WaveSpeedWebhookScheme());
    }

    @Override
    public String id() {
        return config.providerId();
    }

    // ---- submit

    @Override
    public Submitted submit(ProviderAccount account, SubmitRequest request) {
        String model = modelPath(request.remote());
        Map<String, String> headers = headers(account);
        // Uploads happen before the paid POST, so failing here is always safe to retry.
        Map<String, String> uploaded = new HashMap<>();
        JsonNode rendered = request.renderInput(img -> JsonNodeFactory.instance.stringNode(
                uploaded.computeIfAbsent(img.sha256(), k -> upload(account, img, headers))));
        if (!(rendered instanceof ObjectNode body)) {
            throw new ProviderException.Rejected(id(), "the binding's input for " + model + " is not a JSON object", null, 0);
        }
        boolean base64 = body.path("enable_base64_output").asBoolean(false);
        boolean sync = body.path("enable_sync_mode").asBoolean(false);
        String url = api(account, model);
        // WaveSpeed refuses a webhook together with base64 output; polling covers that case.
        if (request.webhookUrl() != null && !base64) {
            url += "?webhook=" + URLEncoder.encode(request.webhookUrl(), StandardCharsets.UTF_8);
        }
        ProviderHttp.Response r = http.postJson(id(), URI.create(url), headers, body,
                sync ? config.syncSubmitTimeout() : config.submitTimeout(), false);
        if (!r.ok()) throw error(r, "submit to " + model);
        JsonNode envelope;
        try {
            envelope = r.json(id());
        } catch (ProviderException.Malformed e) {
            // The request arrived and something answered: a task may exist.
            throw new ProviderException.Ambiguous(id(), "unreadable answer to submit: " + e.getMessage(), e);
        }
        JsonNode data = data(envelope, r, "submit to " + model);
        String remoteId = data.path("id").asString("");
        if (remoteId.isBlank()) {
            // The official SDK treats this as a failed submit; whether a task exists is not known.
            throw new ProviderException.Ambiguous(id(), "submit answer without data.id: " + ProviderHttp.abbreviate(r.text()), null);
        }
        return submitted(data, body.path("output_format").asString(null), base64);
    }

    private Submitted submitted(JsonNode data, String format, boolean base64) {
        ObjectNode remote = Json.object();
        remote.put("get", data.path("urls").path("get").asString(null));
        if (format != null) remote.put("format", format);
        if (base64) remote.put("base64", true);
        RemoteStatus status = WaveSpeedResults.status(data, format);
        return new Submitted(data.path("id").asString(), remote, WaveSpeedResults.isFinal(status) ? status : null);
    }

    /**
     * Uploads one input image and returns its URL. The current SDKs' direct upload first (announce
     * the file at {@code /media/uploads}, {@code PUT} it to the URL given, use the
     * {@code download_url}); a deployment without that endpoint gets the older
     * {@code /media/upload/binary}. Nothing here is paid, so any failure is safe to retry.
     */
    private String upload(ProviderAccount account, InputImage img, Map<String, String> headers) {
        byte[] bytes;
        try {
            bytes = img.bytes();
        } catch (IOException e) {
            throw new ProviderException.Unavailable(id(), "cannot read input image " + img.assetId() + ": " + e.getMessage(), 0, e);
        }
        String url = directUpload(account, img, bytes, headers);
        return url != null ? url : binaryUpload(account, img, bytes, headers);
    }

    /** The direct upload (wavespeed-python and wavespeed-java {@code Client.upload}); null when the endpoint does not exist. */
    private String directUpload(ProviderAccount account, InputImage img, byte[] bytes, Map<String, String> headers) {
        ObjectNode announce = Json.object();
        announce.put("filename", img.fileName());
        announce.put("size", bytes.length);
        announce.put("content_type", img.mime());
        ProviderHttp.Response r = http.postJson(id(), URI.create(api(account, "media/uploads")), headers, announce,
                config.uploadTimeout(), true);
        if (r.status() == 404 || r.status() == 405 || r.status() == 501) return null;
        if (!r.ok()) throw error(r, "upload of input image " + img.assetId());
        WaveSpeedUploads.Ticket ticket = WaveSpeedUploads.ticket(data(r.json(id()), r, "upload"));
        if (ticket == null) throw new ProviderException.Malformed(id(), "upload answer without an upload URL and download_url", r.status());
        // The storage URL is presigned: the API key must not travel there (the SDKs send only the headers given).
        HttpRequest put = http.request(URI.create(ticket.url()), config.uploadTimeout(), ticket.headers())
                .method(ticket.method(), HttpRequest.BodyPublishers.ofByteArray(bytes)).build();
        ProviderHttp.Response stored = http.send(id(), put, true);
        if (!stored.ok()) throw ProviderHttp.errorFor(id(), stored, "storing input image " + img.assetId() + " failed");
        return ticket.downloadUrl();
    }

    /** The older multipart upload, answered with {@code download_url} (or {@code url}, as one version of the docs shows). */
    private String binaryUpload(ProviderAccount account, InputImage img, byte[] bytes, Map<String, String> headers) {
        String boundary = "kiln-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + Long.toHexString(System.nanoTime());
        ByteArrayOutputStream form = new ByteArrayOutputStream(bytes.length + 512);
        form.writeBytes(("--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"file\"; filename=\"" + img.fileName() + "\"\r\n"
                + "Content-Type: " + img.mime() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        form.writeBytes(bytes);
        form.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest req = http.request(URI.create(api(account, "media/upload/binary")), config.uploadTimeout(), headers)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(form.toByteArray()))
                .build();
        ProviderHttp.Response r = http.send(id(), req, true);
        if (!r.ok()) throw error(r, "upload of input image " + img.assetId());
        String url = WaveSpeedUploads.fileUrl(data(r.json(id()), r, "upload"));
        if (url == null) throw new ProviderException.Malformed(id(), "upload answer without a download_url", r.status());
        return url;
    }

    // ---- poll, cancel, open

    @Override
    public RemoteStatus poll(ProviderAccount account, RemoteRef ref) {
        String url = api(account, "predictions/" + URLEncoder.encode(ref.remoteId(), StandardCharsets.UTF_8) + "/result");
        ProviderHttp.Response r = http.get(id(), URI.create(url), headers(account), config.pollTimeout());
        if (!r.ok()) throw error(r, "result of " + ref.remoteId());
        JsonNode data = data(r.json(id()), r, "result of " + ref.remoteId());
        // Results carry no input, so the requested format was remembered at submit.
        String format = ref.remote() == null ? null : ref.remote().path("format").asString(null);
        return WaveSpeedResults.status(data, format);
    }

    @Override
    public void cancel(ProviderAccount account, RemoteRef ref) {
        String url = api(account, "predictions/" + URLEncoder.encode(ref.remoteId(), StandardCharsets.UTF_8));
        HttpRequest req = http.request(URI.create(url), config.pollTimeout(), headers(account)).DELETE().build();
        ProviderHttp.Response r = http.send(id(), req, true);
        if (r.status() == 404) return; // unknown or already gone: nothing left to stop
        if (!r.ok()) throw error(r, "cancel of " + ref.remoteId());
        JsonNode envelope = r.json(id());
        int code = envelope.path("code").asInt(200);
        if (code != 200 && code != 404) throw error(withStatus(r, code), "cancel of " + ref.remoteId());
    }

    @Override
    public Download open(ProviderAccount account, OutputRef ref) {
        // No Authorization header: outputs live on a CDN, and the key must not travel there.
        return http.openOutput(id(), ref, config.downloadTimeout());
    }

    // ---- reconcile

    /**
     * WaveSpeed's prediction list shows no inputs (wavespeed.ai/docs/predictions-api) and takes no
     * caller reference, so a lost submission cannot be recognised in it. What the list can prove is
     * absence: no prediction of this model since shortly before Kiln's intent means WaveSpeed never
     * got it. Every other prediction of the model in that window is a candidate, and Kiln resubmits
     * only if each of them belongs to another job ({@link Reconciliation.Unconfirmed}).
     */
    @Override
    public Reconciliation reconcile(ProviderAccount account, SubmitRequest request, Instant intentAt) {
        String model;
        try {
            model = modelPath(request.remote());
        } catch (ProviderException e) {
            return new Reconciliation.Unknown(e.getMessage());
        }
        Instant from = intentAt.minus(config.reconcileSkew());
        // Kiln reconciles only after the submit call ended (and a pause), so this attempt's task,
        // if any, was created before now: bounding the window keeps the search short on busy accounts.
        Instant to = Instant.now().plus(config.reconcileSkew());
        List<String> candidates = new ArrayList<>();
        try {
            for (int page = 1; ; page++) {
                if (page > RECONCILE_MAX_PAGES) {
                    return new Reconciliation.Unknown("more than " + RECONCILE_MAX_PAGES * 100 + " recent predictions to search");
                }
                ObjectNode q = Json.object();
                q.put("page", page);
                q.put("page_size", 100);
                q.put("model", model);
                q.put("created_after", from.toString());
                q.put("created_before", to.toString());
                ProviderHttp.Response r = http.postJson(id(), URI.create(api(account, "predictions")), headers(account), q,
                        config.pollTimeout(), true);
                if (!r.ok()) throw error(r, "listing predictions");
                JsonNode data = data(r.json(id()), r, "listing predictions");
                JsonNode items = data.path("items");
                if (!items.isArray()) throw new ProviderException.Malformed(id(), "prediction list without items", r.status());
                for (JsonNode item : items) {
                    String itemId = item.path("id").asString("");
                    if (itemId.isBlank()) throw new ProviderException.Malformed(id(), "listed prediction without id", r.status());
                    if (model.equals(item.path("model").asString(model)) && !createdBefore(item, from)) candidates.add(itemId);
                }
                int total = data.path("total").asInt(-1);
                if (items.size() < 100 || (total >= 0 && page * 100 >= total)) break;
            }
        } catch (ProviderException e) {
            return new Reconciliation.NotYet("cannot list WaveSpeed predictions: " + e.getMessage());
        }
        if (candidates.isEmpty()) return new Reconciliation.NotFound();
        return new Reconciliation.Unconfirmed(candidates, "WaveSpeed lists " + candidates.size() + " prediction(s) of " + model
                + " since the submit and shows no inputs to tell which is this job's");
    }

    private static boolean createdBefore(JsonNode item, Instant from) {
        try {
            return OffsetDateTime.parse(item.path("created_at").asString("")).toInstant().isBefore(from);
        } catch (DateTimeParseException e) {
            return false; // unknown time: let the input decide
        }
    }

    // ---- webhooks, health, pacing

    @Override
    public WebhookNotice verifyWebhook(ProviderAccount account, WebhookDelivery delivery) {
        return webhooks.verify(account, delivery);
    }

    private String fetchWebhookSecret(ProviderAccount account) {
        try {
            ProviderHttp.Response r = http.get(id(), URI.create(api(account, "webhook/secret")), headers(account), config.pollTimeout());
            if (!r.ok()) throw error(r, "fetching the webhook secret");
            JsonNode data = data(r.json(id()), r, "fetching the webhook secret");
            // The field name is not documented: accept a bare string or the likely names.
            String secret = data.isString() ? data.asString() : data.path("secret").asString(data.path("webhook_secret").asString(""));
            if (secret.isBlank()) throw new ProviderException.Malformed(id(), "webhook secret answer holds no secret", r.status());
            return secret;
        } catch (ProviderException e) {
            throw new WebhookRejected("cannot get the account's webhook secret: " + e.getMessage());
        }
    }

    @Override
    public Health health(ProviderAccount account) {
        try {
            ProviderHttp.Response r = http.get(id(), URI.create(api(account, "balance")), headers(account), config.pollTimeout());
            if (!r.ok()) throw error(r, "balance");
            JsonNode data = data(r.json(id()), r, "balance");
            JsonNode balance = data.path("balance");
            return Health.ok(balance.isNumber() ? "balance " + balance.asString() : "reachable");
        } catch (ProviderException.AuthFailed e) {
            return Health.failed("key refused (HTTP " + e.httpStatus() + ")");
        } catch (ProviderException e) {
            return Health.failed(e.getMessage());
        }
    }

    @Override
    public PollPolicy pollPolicy(ProviderAccount account, String kind) {
        if (account.sandbox()) return config.sandboxPolls();
        return "video".equals(kind) ? config.videoPolls() : config.imagePolls();
    }

    // ---- HTTP helpers

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
        return base + "/api/v3/" + path;
    }

    private String modelPath(String remote) {
        if (remote == null || !MODEL_PATH.matcher(remote).matches()) {
            throw new ProviderException.Rejected(id(), "not a WaveSpeed model path: " + remote, null, 0);
        }
        return remote;
    }

    /** {@code data} of a 2xx envelope; an envelope whose {@code code} is not 200 is an error like that HTTP status. */
    private JsonNode data(JsonNode envelope, ProviderHttp.Response r, String what) {
        JsonNode code = envelope.path("code");
        if (code.isNumber() && code.asInt() != 200) throw error(withStatus(r, code.asInt()), what);
        JsonNode data = envelope.path("data");
        if (data.isMissingNode() || data.isNull()) throw new ProviderException.Malformed(id(), what + ": answer without data", r.status());
        return data;
    }

    /**
     * WaveSpeed errors: the HTTP status decides (401/403 key, 404 gone, 429 slow down, 5xx
     * transient), with WaveSpeed's own message; a 400 carries the reason an input was refused.
     */
    private ProviderException error(ProviderHttp.Response r, String what) {
        if (r.status() == 400 || r.status() == 422) {
            return new ProviderException.Rejected(id(), what + " refused: " + message(r), errorCode(r), r.status());
        }
        return ProviderHttp.errorFor(id(), r, what + " failed");
    }

    private static ProviderHttp.Response withStatus(ProviderHttp.Response r, int status) {
        return new ProviderHttp.Response(status, r.headers(), r.body());
    }

    /** The {@code message} or {@code error} of an error answer (both shapes occur), else the raw text. */
    private static String message(ProviderHttp.Response r) {
        try {
            JsonNode n = Json.MAPPER.readTree(r.body());
            if (n != null) {
                for (String f : new String[] {"message", "error", "detail"}) {
                    JsonNode v = n.path(f);
                    if (v.isString() && !v.asString().isBlank()) return v.asString();
                }
            }
        } catch (RuntimeException ignored) {
            // not JSON: use the text
        }
        return ProviderHttp.abbreviate(r.text());
    }

    private static String errorCode(ProviderHttp.Response r) {
        try {
            JsonNode n = Json.MAPPER.readTree(r.body());
            JsonNode c = n == null ? null : n.path("error_code");
            return c != null && (c.isNumber() || c.isString()) ? c.asString() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }
}

package dev.kiln.provider.comfyui;

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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A ComfyUI server, spoken to directly (docs/PROVIDERS.md, "ComfyUI"): input images uploaded by
 * name ({@code POST /upload/image}, overwrite), the workflow queued with {@code POST /prompt}
 * under a prompt id derived from the job and attempt (so an ambiguous submit can be looked up),
 * progress from the {@code /ws} websocket, the result from {@code GET /history/{id}} (the truth;
 * polled alone when no websocket is to be had), outputs from {@code GET /view}. Cancel deletes a
 * queued prompt or interrupts a running one. ComfyUI sends no webhooks. An account's secret, if
 * any, is sent as a Bearer token (for a ComfyUI behind an authenticating proxy).
 */
public final class ComfyUiProvider implements Provider, AutoCloseable {
    public static final String ID = "comfyui";

    private final ProviderHttp http;
    private final ComfyUiConfig config;
    private final ComfyUiSockets sockets;
    private final HttpClient wsClient;
    private final Map<String, Instant> historyChecked = new ConcurrentHashMap<>();

    public ComfyUiProvider(ProviderHttp http, ComfyUiConfig config) {
        this.http = http;
        this.config = config;
        this.wsClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.websocketConnectTimeout()).executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        this.sockets = new ComfyUiSockets(wsClient, config.websocketConnectTimeout());
    }

    @Override
    public String id() {
        return ID;
    }

    // ---- submit

    @Override
    public Submitted submit(ProviderAccount account, SubmitRequest request) {
        String base = base(account);
        ComfyWorkflows.Rendered r = ComfyWorkflows.render(id(), request);
        // Uploads come before the prompt, so failing here is always safe to retry.
        r.files().forEach((name, img) -> upload(account, base, name, img));
        String clientId = sockets.clientIdFor(account, base);
        String promptId = promptId(request);
        ObjectNode body = Json.object();
        body.set("prompt", r.workflow());
        body.put("client_id", clientId);
        body.put("prompt_id", promptId);
        ObjectNode extra = body.putObject("extra_data");
        extra.put("kiln_job", request.jobId());
        extra.put("kiln_attempt", request.attempt());
        ProviderHttp.Response res = http.postJson(id(), URI.create(base + "/prompt"), headers(account), body, config.submitTimeout(), false);
        if (res.status() == 400) throw refused(res);
        if (!res.ok()) throw ProviderHttp.errorFor(id(), res, "queueing the workflow failed");
        JsonNode answer;
        try {
            answer = res.json(id());
        } catch (ProviderException.Malformed e) {
            throw new ProviderException.Ambiguous(id(), "unreadable answer to POST /prompt: " + e.getMessage(), e);
        }
        // The id the server used: ours on servers that honour prompt_id, its own uuid4 on older ones.
        String id = answer.path("prompt_id").asString("");
        if (id.isBlank()) throw new ProviderException.Ambiguous(id(), "POST /prompt answered without a prompt_id: " + ProviderHttp.abbreviate(res.text()), null);
        JsonNode nodeErrors = answer.path("node_errors");
        if (nodeErrors.isObject() && !nodeErrors.isEmpty()) {
            // ComfyUI queued only the outputs that passed validation (execution.validate_prompt):
            // the job would end without the files the workflow asked for, so it is taken back and failed.
            try {
                cancel(account, new RemoteRef(id, remote(clientId, answer.path("number").asInt(0))));
            } catch (ProviderException e) {
                // The prompt may run partially; its outputs are never collected.
            }
            throw new ProviderException.Rejected(id(), "ComfyUI would skip outputs that failed validation"
                    + skipped(nodeErrors) + describe(nodeErrors), "prompt_outputs_failed_validation", res.status());
        }
        sockets.follow(account, base, id);
        return new Submitted(id, remote(clientId, answer.path("number").asInt(0)), null);
    }

    /** The prompt id Kiln asks ComfyUI to use: one per job attempt, so a lost answer can be looked up. */
    static String promptId(SubmitRequest request) {
        return UUID.nameUUIDFromBytes(("kiln:" + request.jobId() + ":" + request.attempt()).getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static ObjectNode remote(String clientId, int number) {
        ObjectNode o = Json.object();
        o.put("client_id", clientId);
        o.put("number", number);
        return o;
    }

    /** ComfyUI's 400: the error and every node error, naming node id, class and input. */
    private ProviderException refused(ProviderHttp.Response res) {
        JsonNode b;
        try {
            b = res.json(id());
        } catch (ProviderException.Malformed e) {
            return new ProviderException.Rejected(id(), "ComfyUI refused the workflow: " + ProviderHttp.abbreviate(res.text()), null, 400);
        }
        JsonNode error = b.path("error");
        String type = error.isObject() ? error.path("type").asString(null) : null;
        StringBuilder sb = new StringBuilder("ComfyUI refused the workflow: ");
        sb.append(error.isObject() ? error.path("message").asString("invalid prompt") : error.asString("invalid prompt"));
        String details = error.path("details").asString("");
        JsonNode nodeErrors = b.path("node_errors");
        // The details of prompt_outputs_failed_validation repeat the output nodes' own errors; the node errors say it all.
        if (!details.isBlank() && (!nodeErrors.isObject() || nodeErrors.isEmpty())) sb.append(" (").append(details).append(')');
        sb.append(describe(nodeErrors));
        return new ProviderException.Rejected(id(), sb.toString(), type, 400);
    }

    /** "; node 3 (KSampler): Required input is missing: model" for each node error. */
    private static String describe(JsonNode nodeErrors) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, JsonNode> e : nodeErrors.properties()) {
            sb.append("; node ").append(e.getKey()).append(" (").append(e.getValue().path("class_type").asString("?")).append("): ");
            List<String> errs = new ArrayList<>();
            for (JsonNode err : e.getValue().path("errors")) {
                String d = err.path("details").asString("");
                errs.add(err.path("message").asString("error") + (d.isBlank() ? "" : ": " + d));
            }
            sb.append(String.join(", ", errs));
        }
        return sb.toString();
    }

    /** " (outputs 9, 12)": the output nodes that depend on a failed node. */
    private static String skipped(JsonNode nodeErrors) {
        java.util.Set<String> outs = new java.util.TreeSet<>();
        for (JsonNode e : nodeErrors) for (JsonNode o : e.path("dependent_outputs")) outs.add(o.asString());
        return outs.isEmpty() ? "" : " (output" + (outs.size() > 1 ? "s " : " ") + String.join(", ", outs) + ")";
    }

    private void upload(ProviderAccount account, String base, String name, InputImage img) {
        byte[] bytes;
        try {
            bytes = img.bytes();
        } catch (IOException e) {
            throw new ProviderException.Unavailable(id(), "cannot read input image " + img.assetId() + ": " + e.getMessage(), 0, e);
        }
        String boundary = "kiln-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + Long.toHexString(System.nanoTime());
        ByteArrayOutputStream form = new ByteArrayOutputStream(bytes.length + 512);
        String quoted = name.replace("\"", "%22");
        form.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + quoted + "\"\r\n"
                + "Content-Type: " + img.mime() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        form.writeBytes(bytes);
        form.writeBytes(("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\ntrue"
                + "\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\ninput"
                + "\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest req = http.request(URI.create(base + "/upload/image"), config.uploadTimeout(), headers(account))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(form.toByteArray())).build();
        ProviderHttp.Response r = http.send(id(), req, true);
        if (!r.ok()) throw ProviderHttp.errorFor(id(), r, "upload of input image " + name + " failed");
        String stored = r.json(id()).path("name").asString("");
        if (!stored.equals(name)) {
            throw new ProviderException.Malformed(id(), "ComfyUI stored input image " + name + " as '" + stored + "'", r.status());
        }
    }

    // ---- poll

    @Override
    public RemoteStatus poll(ProviderAccount account, RemoteRef ref) {
        String base = base(account);
        String id = ref.remoteId();
        ComfyUiSockets.Tracked t = sockets.tracked(account, base, id);
        // The websocket saw it start and not end: running. /history is still read now and then.
        boolean running = t != null && t.started && !t.finished;
        Instant last = historyChecked.get(id);
        if (running && last != null && last.plus(config.historyRecheck()).isAfter(Instant.now())) {
            return new RemoteStatus.Pending(t.progress, null);
        }
        JsonNode entry = history(account, base, id);
        historyChecked.put(id, Instant.now());
        if (entry != null) return finished(account, base, id, entry);
        if (running) return new RemoteStatus.Pending(t.progress, null);
        // Not in the history: queued, running, or lost (a restarted ComfyUI forgets its queue).
        JsonNode queue = queue(account, base);
        Integer position = position(queue, id);
        if (position != null) return new RemoteStatus.Pending(t == null ? 0 : t.progress, position);
        entry = history(account, base, id); // it may have finished in between
        if (entry != null) return finished(account, base, id, entry);
        historyChecked.remove(id);
        return new RemoteStatus.Failed("comfyui_lost", "prompt " + id + " is neither queued, running nor in ComfyUI's history (was the server restarted?)", true);
    }

    private RemoteStatus finished(ProviderAccount account, String base, String id, JsonNode entry) {
        sockets.forget(account, base, id);
        historyChecked.remove(id);
        return ComfyUiResults.status(base, entry);
    }

    /** The history entry of a prompt, or null while it has none. */
    private JsonNode history(ProviderAccount account, String base, String id) {
        ProviderHttp.Response r = http.get(id(), URI.create(base + "/history/" + URLEncoder.encode(id, StandardCharsets.UTF_8)),
                headers(account), config.callTimeout());
        if (!r.ok()) throw ProviderHttp.errorFor(id(), r, "reading the history of " + id + " failed");
        JsonNode h = r.json(id());
        JsonNode entry = h.get(id);
        return entry == null || entry.isNull() ? null : entry;
    }

    private JsonNode queue(ProviderAccount account, String base) {
        ProviderHttp.Response r = http.get(id(), URI.create(base + "/queue"), headers(account), config.callTimeout());
        if (!r.ok()) throw ProviderHttp.errorFor(id(), r, "reading the queue failed");
        return r.json(id());
    }

    /** 0 when running, 1.. when pending (its place in line), null when in neither list. */
    static Integer position(JsonNode queue, String id) {
        for (JsonNode item : queue.path("queue_running")) if (id.equals(item.path(1).asString(null))) return 0;
        List<Integer> numbers = new ArrayList<>();
        Integer mine = null;
        for (JsonNode item : queue.path("queue_pending")) {
            numbers.add(item.path(0).asInt());
            if (id.equals(item.path(1).asString(null))) mine = item.path(0).asInt();
        }
        if (mine == null) return null;
        int ahead = 0;
        for (int n : numbers) if (n < mine) ahead++;
        return ahead + 1;
    }

    // ---- cancel, reconcile, open

    @Override
    public void cancel(ProviderAccount account, RemoteRef ref) {
        String base = base(account);
        historyChecked.remove(ref.remoteId());
        Integer position = position(queue(account, base), ref.remoteId());
        if (position == null) return; // finished or unknown: nothing to stop
        if (position > 0) {
            ObjectNode del = Json.object();
            del.putArray("delete").add(ref.remoteId());
            post(account, base + "/queue", del, "deleting prompt " + ref.remoteId());
            // It may have started in the meantime.
            position = position(queue(account, base), ref.remoteId());
            if (position == null || position > 0) return;
        }
        ObjectNode body = Json.object();
        body.put("prompt_id", ref.remoteId());
        post(account, base + "/interrupt", body, "interrupting prompt " + ref.remoteId());
    }

    private void post(ProviderAccount account, String url, ObjectNode body, String what) {
        ProviderHttp.Response r = http.postJson(id(), URI.create(url), headers(account), body, config.callTimeout(), true);
        if (!r.ok()) throw ProviderHttp.errorFor(id(), r, what + " failed");
    }

    /**
     * Looks for the prompt under the id Kiln chose, then by the job marker in {@code extra_data}
     * (for servers that pick their own ids). ComfyUI keeps every prompt it accepted in its queue or
     * history, so finding it in neither means it never arrived (or the server restarted and runs
     * nothing of it): submitting again is safe.
     */
    @Override
    public Reconciliation reconcile(ProviderAccount account, SubmitRequest request, Instant intentAt) {
        try {
            String base = base(account);
            String wanted = promptId(request);
            JsonNode entry = history(account, base, wanted);
            if (entry != null) return new Reconciliation.Found(new Submitted(wanted, remote(null, 0), null));
            JsonNode queue = queue(account, base);
            for (String list : new String[] {"queue_running", "queue_pending"}) {
                for (JsonNode item : queue.path(list)) {
                    if (wanted.equals(item.path(1).asString(null)) || marks(item.path(3), request)) {
                        return new Reconciliation.Found(new Submitted(item.path(1).asString(), remote(null, item.path(0).asInt()), null));
                    }
                }
            }
            ProviderHttp.Response r = http.get(id(), URI.create(base + "/history?max_items=500"), headers(account), config.callTimeout());
            if (!r.ok()) throw ProviderHttp.errorFor(id(), r, "reading the history failed");
            for (Map.Entry<String, JsonNode> e : r.json(id()).properties()) {
                if (marks(e.getValue().path("prompt").path(3), request)) {
                    return new Reconciliation.Found(new Submitted(e.getKey(), remote(null, 0), null));
                }
            }
            return new Reconciliation.NotFound();
        } catch (ProviderException e) {
            return new Reconciliation.NotYet("cannot read ComfyUI's queue and history: " + e.getMessage());
        }
    }

    private static boolean marks(JsonNode extra, SubmitRequest request) {
        return request.jobId().equals(extra.path("kiln_job").asString(null)) && extra.path("kiln_attempt").asInt(-1) == request.attempt();
    }

    @Override
    public Download open(ProviderAccount account, OutputRef ref) {
        if (ref.url() == null) throw new ProviderException.Rejected(id(), "output without a URL", null, 0);
        URI uri = ProviderHttp.outputUri(id(), ref.url());
        // The account's credential only goes to the account's own server.
        Map<String, String> h = ref.url().startsWith(base(account) + "/") ? headers(account) : Map.of();
        Download d = http.download(id(), uri, h, config.downloadTimeout());
        return ref.mime() == null ? d : new Download(d.body(), ref.mime(), d.contentLength());
    }

    // ---- webhooks, health, pacing

    @Override
    public WebhookNotice verifyWebhook(ProviderAccount account, WebhookDelivery delivery) {
        throw new WebhookRejected("ComfyUI sends no webhooks");
    }

    /**
     * {@code GET /system_stats} says the server answers; {@code GET /object_info} then says what it
     * has (node classes, model files), kept with the account for routing. A server whose
     * {@code /object_info} fails is still ready, with what it has unknown.
     */
    @Override
    public Health health(ProviderAccount account) {
        String base;
        String summary;
        try {
            base = base(account);
            ProviderHttp.Response r = http.get(id(), URI.create(base + "/system_stats"), headers(account), config.callTimeout());
            if (!r.ok()) throw ProviderHttp.errorFor(id(), r, "system_stats failed");
            JsonNode s = r.json(id());
            String version = s.path("system").path("comfyui_version").asString("?");
            String device = s.path("devices").path(0).path("name").asString("no device");
            summary = "ComfyUI " + version + " on " + device;
        } catch (ProviderException.AuthFailed e) {
            return Health.failed("refused (HTTP " + e.httpStatus() + ")");
        } catch (ProviderException e) {
            return Health.failed(e.getMessage());
        }
        try {
            ProviderHttp.Response r = http.get(id(), URI.create(base + "/object_info"), headers(account), config.objectInfoTimeout());
            if (!r.ok()) throw ProviderHttp.errorFor(id(), r, "object_info failed");
            JsonNode info = r.json(id());
            if (!info.isObject()) throw new ProviderException.Malformed(id(), "/object_info is not a JSON object", r.status());
            ObjectNode caps = ComfyCapabilities.fromObjectInfo(info);
            return Health.ok(summary + "; " + caps.path("nodes").size() + " node classes, "
                    + caps.path("folders").path("checkpoints").size() + " checkpoints", caps);
        } catch (ProviderException e) {
            return Health.ok(summary + "; what it has is unknown (" + e.getMessage() + ")");
        }
    }

    /** Node classes and model files the workflow names that the server's {@code /object_info} did not list. */
    @Override
    public List<Shortfall> shortfalls(ProviderAccount account, JsonNode capabilities, Work work) {
        return ComfyCapabilities.check(capabilities, work.input());
    }

    @Override
    public PollPolicy pollPolicy(ProviderAccount account, String kind) {
        return account.sandbox() ? config.sandboxPolls() : config.polls();
    }

    /** Whether this account's progress websocket is connected (for tests and diagnostics). */
    public boolean websocketConnected(ProviderAccount account) {
        return sockets.connected(account, base(account));
    }

    @Override
    public void close() {
        sockets.close();
        wsClient.close();
    }

    private String base(ProviderAccount account) {
        String base = account.baseUrl();
        if (base == null || base.isBlank()) throw new ProviderException.Rejected(id(), "account " + account.id() + " has no ComfyUI URL", null, 0);
        while (base.endsWith("/")) base = base.substring(0, base.length() - 1);
        return base;
    }

    private static Map<String, String> headers(ProviderAccount account) {
        Map<String, String> h = new HashMap<>();
        h.put("Accept", "application/json");
        if (account.secret() != null && !account.secret().isBlank()) h.put("Authorization", "Bearer " + account.secret());
        return h;
    }
}

package dev.kiln.compat.vibewave;

import dev.kiln.account.Account;
import dev.kiln.account.AccountState;
import dev.kiln.account.AccountStore;
import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.catalog.Binding;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.job.GenerationRequest;
import dev.kiln.job.Job;
import dev.kiln.job.JobService;
import dev.kiln.job.JobStatus;
import dev.kiln.run.Run;
import dev.kiln.run.RunService;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.stereotype.Service;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Vibewave's workflow requests on Kiln's jobs: a WorkflowInput becomes a typed
 * {@link GenerationRequest} (origin {@value #ORIGIN}) of the workflow's catalogue model, and a job
 * is shown as a ComfyUIRequest or a WorkflowResult, its status in Vibewave's words
 * ({@link #status}, the one table). {@code files} are URLs that fetch each output without
 * credentials for a day. {@code pod_id}/{@code pod_ip} name the pod that ran the job when its
 * backend account is one of Kiln's RunPod pods (an account with a {@code pod_id} setting), else null.
 */
@Service
@ConditionalOnCompat("004")
class VibewaveJobs {
    static final String ORIGIN = "004";
    static final Duration FILE_URL_LIFETIME = Duration.ofHours(24);
    static final int LIST_CAP = 100;

    private final JobService jobs;
    private final RunService runs;
    private final AssetService assets;
    private final AccountStore accounts;
    private final VibewaveWorkflows workflows;

    VibewaveJobs(JobService jobs, RunService runs, AssetService assets, AccountStore accounts, VibewaveWorkflows workflows) {
        this.jobs = jobs;
        this.runs = runs;
        this.assets = assets;
        this.accounts = accounts;
        this.workflows = workflows;
    }

    /** The model a workflow name runs; 400 for a name Kiln does not know. */
    Model workflow(String name) {
        if (name == null) return workflows.qwen();
        return workflows.model(name).orElseThrow(() -> VibewaveException.badRequest(
                "Unknown workflow '" + name + "'; known: " + String.join(", ", workflows.names())));
    }

    // ---- submitting

    Job submit(Caller caller, Model model, WorkflowInput in) {
        try {
            return jobs.insert(jobs.prepare(caller, request(model, in).prompt(in.prompt()).build())).getFirst();
        } catch (KilnException e) {
            throw translate(e);
        }
    }

    /** One run of several prompts with the same settings: all of it is accepted, or none. */
    List<Job> submitBatch(Caller caller, Model model, WorkflowInput in, List<String> prompts, JsonNode received) {
        try {
            Run run = runs.insert(runs.prepare(caller, request(model, in).prompts(prompts).build(), received));
            return runs.jobsOf(run);
        } catch (KilnException e) {
            throw translate(e);
        }
    }

    private static GenerationRequest.Builder request(Model model, WorkflowInput in) {
        GenerationRequest.Builder b = GenerationRequest.of(model.id()).negativePrompt(in.negativePrompt()).origin(ORIGIN);
        if (in.preset() != null) {
            Model.Preset p = model.presets().get(in.preset());
            if (p == null) {
                throw VibewaveException.badRequest(WorkflowInput.INVALID + ": unknown preset '" + in.preset() + "'; presets: "
                        + String.join(", ", model.presets().keySet()));
            }
            b.params(p.params());
        }
        for (Map.Entry<String, Object> e : in.params().entrySet()) {
            if (model.param(e.getKey()) == null) {
                throw VibewaveException.badRequest(WorkflowInput.INVALID + ": " + e.getKey() + " does not apply to this workflow");
            }
            b.param(e.getKey(), e.getValue());
        }
        return b;
    }

    /** Kiln's refusal as Vibewave's 400 ({@code Invalid workflow input parameters: width: …}); others keep their status. */
    static RuntimeException translate(KilnException e) {
        if (e.code() != ErrorCode.VALIDATION_FAILED) return e;
        if (e.errors().isEmpty()) return VibewaveException.badRequest(WorkflowInput.INVALID + ": " + e.getMessage());
        return VibewaveException.badRequest(WorkflowInput.INVALID + ": " + e.errors().stream()
                .map(f -> field(f.field()) + ": " + f.message()).collect(Collectors.joining("; ")));
    }

    private static String field(String core) {
        return core.startsWith("params.") ? core.substring("params.".length()) : core.equals("negative_prompt") ? core : core;
    }

    // ---- reading

    /** A job of this façade the caller may see; 404 {@code Request not found} otherwise. */
    Job find(Caller caller, String id) {
        try {
            Job j = jobs.get(caller, id);
            if (ORIGIN.equals(j.origin())) return j;
        } catch (KilnException e) {
            if (e.code() != ErrorCode.NOT_FOUND) throw e;
        }
        throw VibewaveException.notFound("Request not found");
    }

    Job cancel(Caller caller, String id) {
        find(caller, id);
        return jobs.cancel(caller, id);
    }

    /** Newest first; {@code status} in Vibewave's words, or null for all. */
    List<Job> history(Caller caller, String status, int limit) {
        if (status == null) return jobs.listByOrigin(caller, ORIGIN, null, null, null, limit);
        List<JobStatus> kiln = kilnStatuses(status);
        List<Job> out = new ArrayList<>();
        for (JobStatus s : kiln) out.addAll(jobs.listByOrigin(caller, ORIGIN, null, s, null, limit));
        out.sort(Comparator.comparing(Job::id).reversed());
        return out.size() > limit ? out.subList(0, limit) : out;
    }

    // ---- the one status table

    /** Kiln's job status → Vibewave's request status. */
    static String status(JobStatus s) {
        return switch (s) {
            case QUEUED -> "pending";
            case RUNNING -> "running";
            case SUCCEEDED -> "completed";
            case FAILED, TIMED_OUT -> "failed";
            case CANCELED -> "cancelled";
        };
    }

    static final List<String> STATUSES = List.of("pending", "running", "completed", "failed", "cancelled");

    static List<JobStatus> kilnStatuses(String status) {
        List<JobStatus> out = java.util.Arrays.stream(JobStatus.values()).filter(s -> status(s).equals(status)).toList();
        if (out.isEmpty()) throw VibewaveException.badRequest("status must be one of " + String.join(", ", STATUSES));
        return out;
    }

    // ---- shapes

    /** ComfyUIRequest: {@code id, workflow_name, inputs, status, pod_id, created_at, updated_at, result, error}. */
    ObjectNode request(Job j, String base) {
        ObjectNode o = Json.object();
        o.put("id", j.id());
        o.put("workflow_name", workflows.nameOf(j.model()));
        o.set("inputs", inputs(j));
        o.put("status", status(j.status()));
        Pod pod = pod(j);
        o.put("pod_id", pod == null ? null : pod.id());
        o.put("created_at", j.createdAt().toString());
        o.put("updated_at", (j.updatedAt() != null ? j.updatedAt() : j.createdAt()).toString());
        if (j.status().terminal()) {
            ObjectNode r = o.putObject("result");
            r.put("success", j.status() == JobStatus.SUCCEEDED);
            r.set("files", files(j, base));
        } else {
            o.putNull("result");
        }
        o.put("error", error(j));
        return o;
    }

    /** WorkflowResult: {@code success, files, error, request_id, pod_id, pod_ip}. */
    ObjectNode result(Job j, String base) {
        ObjectNode o = Json.object();
        o.put("success", j.status() == JobStatus.SUCCEEDED);
        o.set("files", files(j, base));
        o.put("error", error(j));
        o.put("request_id", j.id());
        Pod pod = pod(j);
        o.put("pod_id", pod == null ? null : pod.id());
        o.put("pod_ip", pod == null ? null : pod.ip());
        return o;
    }

    /** The short form in QueueStatus's lists: {@code id, workflow_name, status}. */
    ObjectNode summary(Job j) {
        ObjectNode o = Json.object();
        o.put("id", j.id());
        o.put("workflow_name", workflows.nameOf(j.model()));
        o.put("status", status(j.status()));
        return o;
    }

    /** QueueStatus: the pods at work and the caller's newest requests ({@value #LIST_CAP} at most per list). */
    ObjectNode queueStatus(Caller caller) {
        ObjectNode o = Json.object();
        ArrayNode pods = o.putArray("active_pods");
        for (Account a : accounts.list()) {
            String podId = a.config() == null ? null : a.config().get("pod_id");
            if (podId == null || a.state() != AccountState.READY) continue;
            ObjectNode p = pods.addObject();
            p.put("id", podId);
            p.put("name", a.label());
            p.put("status", "running");
            p.put("ip", ip(a));
            p.put("workflow_name", a.config().getOrDefault("workflow_name", VibewaveWorkflows.QWEN));
        }
        ArrayNode pending = o.putArray("pending_requests");
        ArrayNode completed = o.putArray("completed_requests");
        ArrayNode failed = o.putArray("failed_requests");
        for (JobStatus s : List.of(JobStatus.RUNNING, JobStatus.QUEUED)) {
            jobs.listByOrigin(caller, ORIGIN, null, s, null, LIST_CAP).forEach(j -> pending.add(summary(j)));
        }
        jobs.listByOrigin(caller, ORIGIN, null, JobStatus.SUCCEEDED, null, LIST_CAP).forEach(j -> completed.add(summary(j)));
        history(caller, "failed", LIST_CAP).forEach(j -> failed.add(summary(j)));
        return o;
    }

    /** The parts of the job a client sent: prompt, negative prompt and the numbers (the seed as used). */
    private static ObjectNode inputs(Job j) {
        ObjectNode o = Json.object();
        o.put("prompt", j.prompt());
        o.put("negative_prompt", j.negativePrompt());
        JsonNode p = j.params();
        for (String f : List.of("width", "height", "seed", "steps", "cfg_scale")) {
            if (p != null && p.has(f)) o.set(f, p.get(f));
        }
        return o;
    }

    private ArrayNode files(Job j, String base) {
        ArrayNode files = Json.MAPPER.createArrayNode();
        if (j.status() == JobStatus.SUCCEEDED) {
            for (Asset a : assets.outputsOf(j.id())) files.add(base + assets.signedPath(a.id(), FILE_URL_LIFETIME));
        }
        return files;
    }

    private static String error(Job j) {
        return switch (j.status()) {
            case FAILED -> j.errorMessage() == null ? "the generation failed" : j.errorMessage();
            case TIMED_OUT -> "Generation timed out" + (j.errorMessage() == null ? "" : ": " + j.errorMessage());
            case CANCELED -> "Request cancelled";
            default -> null;
        };
    }

    record Pod(String id, String ip) {}

    /** The pod that ran the job: its backend account when that is one of Kiln's RunPod pods. */
    private Pod pod(Job j) {
        if (j.accountId() == null) return null;
        Account a = accounts.find(j.accountId()).orElse(null);
        String podId = a == null || a.config() == null ? null : a.config().get("pod_id");
        return podId == null ? null : new Pod(podId, ip(a));
    }

    private static String ip(Account a) {
        String ip = a.config().get("pod_ip");
        if (ip != null) return ip;
        try {
            return a.baseUrl() == null ? null : URI.create(a.baseUrl()).getHost();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    // ---- Qwen's utilities, from the catalogue

    ObjectNode presets(Model m) {
        ObjectNode o = Json.object();
        ObjectNode presets = o.putObject("presets");
        m.presets().forEach((name, p) -> {
            ObjectNode n = presets.putObject(name);
            p.params().forEach((k, v) -> n.set(k, Json.MAPPER.valueToTree(v)));
            n.put("description", p.help());
        });
        ObjectNode defaults = o.putObject("default_settings");
        ObjectNode limits = o.putObject("limits");
        for (ParamSpec p : m.params()) {
            if (p.defaultValue() != null) defaults.set(p.name(), Json.MAPPER.valueToTree(p.defaultValue()));
            if (p.min() != null || p.max() != null) {
                ObjectNode l = limits.putObject(p.name());
                if (p.min() != null) l.put("min", p.min());
                if (p.max() != null) l.put("max", p.max());
                if (p.help() != null) l.put("help", p.help());
            }
        }
        o.put("workflow_name", VibewaveWorkflows.QWEN);
        o.put("model", m.id());
        return o;
    }

    ObjectNode examples(Model m) {
        ObjectNode o = Json.object();
        ArrayNode ex = o.putArray("examples");
        m.examples().forEach(ex::add);
        ArrayNode tips = o.putArray("tips");
        m.presets().forEach((name, p) -> tips.add("preset '" + name + "': " + p.help()));
        m.params().stream().filter(p -> p.help() != null).forEach(p -> tips.add(p.name() + ": " + p.help()));
        return o;
    }

    ObjectNode health(Model m) {
        Set<String> providers = m.bindings().stream().map(Binding::provider).collect(Collectors.toSet());
        long ready = accounts.list().stream().filter(a -> providers.contains(a.provider()) && a.state() == AccountState.READY).count();
        ObjectNode o = Json.object();
        o.put("status", ready > 0 ? "healthy" : "unhealthy");
        o.put("service", "qwen");
        o.put("workflow_name", VibewaveWorkflows.QWEN);
        o.put("model", m.id());
        o.put("backends_ready", ready);
        return o;
    }
}

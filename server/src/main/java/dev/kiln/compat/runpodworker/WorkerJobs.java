package dev.kiln.compat.runpodworker;

import dev.kiln.account.Account;
import dev.kiln.account.AccountState;
import dev.kiln.account.AccountStore;
import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.catalog.Binding;
import dev.kiln.catalog.Model;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.job.GenerationRequest;
import dev.kiln.job.Job;
import dev.kiln.job.JobService;
import dev.kiln.job.JobStatus;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.stereotype.Service;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The RunPod worker format on Kiln's jobs: a worker request becomes a typed
 * {@link GenerationRequest} (origin {@value #ORIGIN}) of the endpoint's model, and a job is shown
 * as RunPod's status envelope or as the seed handler's bare output. The one status table is
 * {@link #runPodStatus}.
 */
@Service
@ConditionalOnCompat("001")
class WorkerJobs {
    static final String ORIGIN = "001";
    static final String TIMEOUT_MESSAGE = "Execution exceeded maximum wait time";
    static final List<String> ENDINGS = List.of("succeeded", "failed", "canceled", "timed_out");

    private final JobService jobs;
    private final AssetService assets;
    private final AccountStore accounts;
    private final WorkerEndpoints endpoints;
    private final Clock clock;

    WorkerJobs(JobService jobs, AssetService assets, AccountStore accounts, WorkerEndpoints endpoints, Clock clock) {
        this.jobs = jobs;
        this.assets = assets;
        this.accounts = accounts;
        this.endpoints = endpoints;
        this.clock = clock;
    }

    /** The endpoint's model, or RunPod's 404 for an endpoint that does not exist. */
    Model endpoint(String endpoint) {
        return endpoints.model(endpoint).orElseThrow(() -> WorkerException.notFound("endpoint " + endpoint + " not found"));
    }

    /** Checks the request completely and queues its job; nothing is created when anything is wrong. */
    Job submit(Caller caller, Model model, WorkerInput in) {
        GenerationRequest.Builder b = GenerationRequest.of(model.id()).mode(WorkerEndpoints.workflowMode(model).id())
                .param("workflow", in.workflow()).priority(in.lowPriority() ? -1 : 0).origin(ORIGIN);
        in.images().forEach(b::image);
        if (in.webhook() != null) b.webhook(new GenerationRequest.ClientWebhook(in.webhook(), ENDINGS));
        try {
            return jobs.insert(jobs.prepare(caller, b.build())).getFirst();
        } catch (KilnException e) {
            throw translate(e);
        }
    }

    /**
     * A Kiln refusal in the worker's words: a bad image is "Failed to upload one or more input
     * images", a graph no backend can run is "Workflow validation failed" (worker-comfyui's
     * messages), with Kiln's reasons; credits, a full queue and the like keep their status.
     */
    static RuntimeException translate(KilnException e) {
        if (e.code() != ErrorCode.VALIDATION_FAILED) return e;
        List<FieldError> errs = e.errors();
        if (errs.isEmpty()) return WorkerException.badRequest(e.getMessage());
        boolean images = errs.stream().allMatch(f -> f.field().startsWith("images"));
        String details = errs.stream().map(f -> field(f.field()) + ": " + f.message()).collect(Collectors.joining("\n• ", "\n• ", ""));
        String lead = images ? WorkerInput.UPLOAD_FAILED : "Workflow validation failed";
        return WorkerException.badRequest(lead + ":" + details);
    }

    /** A core field name in the worker's terms ({@code params.workflow.3.inputs.model} → {@code workflow.3.inputs.model}). */
    static String field(String core) {
        if (core.startsWith("params.")) return core.substring("params.".length());
        if (core.startsWith("images.")) return "images '" + core.substring("images.".length()).replaceAll("\\[\\d+]$", "") + "'";
        if (core.equals("model")) return "workflow";
        return core;
    }

    /** A job of this façade the caller may see, on this endpoint; RunPod's 404 otherwise. */
    Job find(Caller caller, Model model, String id) {
        Job j = findAny(caller, id);
        if (model != null && !j.model().equals(model.id())) throw WorkerException.notFound("request " + id + " does not exist");
        return j;
    }

    /** A job of this façade the caller may see, whatever its endpoint. */
    Job findAny(Caller caller, String id) {
        try {
            Job j = jobs.get(caller, id);
            if (!ORIGIN.equals(j.origin())) throw WorkerException.notFound("request " + id + " does not exist");
            return j;
        } catch (KilnException e) {
            throw WorkerException.notFound("request " + id + " does not exist");
        }
    }

    Job reload(Caller caller, String id) {
        return findAny(caller, id);
    }

    Job cancel(Caller caller, Model model, String id) {
        find(caller, model, id);
        return jobs.cancel(caller, id);
    }

    /** Cancels the caller's queued jobs of the endpoint (running ones go on, as at RunPod); how many. */
    int purgeQueue(Caller caller, Model model) {
        int removed = 0;
        for (int round = 0; round < 1000; round++) {
            List<Job> queued = jobs.listByOrigin(caller, ORIGIN, model.id(), JobStatus.QUEUED, null, 500);
            if (queued.isEmpty()) break;
            for (Job j : queued) {
                if (jobs.cancel(caller, j.id()).status() == JobStatus.CANCELED) removed++;
            }
        }
        return removed;
    }

    /** RunPod's {@code /health}: the caller's jobs of the endpoint by state, and the pool's accounts as workers. */
    ObjectNode health(Caller caller, Model model) {
        Map<JobStatus, Integer> n = jobs.countByOrigin(caller, ORIGIN, model.id());
        ObjectNode o = Json.object();
        ObjectNode j = o.putObject("jobs");
        j.put("completed", n.get(JobStatus.SUCCEEDED));
        j.put("failed", n.get(JobStatus.FAILED) + n.get(JobStatus.TIMED_OUT));
        j.put("inProgress", n.get(JobStatus.RUNNING));
        j.put("inQueue", n.get(JobStatus.QUEUED));
        j.put("retried", 0);
        Set<String> providers = model.bindings().stream().map(Binding::provider).collect(Collectors.toSet());
        List<Account> pool = accounts.list().stream().filter(a -> providers.contains(a.provider()) && a.state() == AccountState.READY).toList();
        ObjectNode w = o.putObject("workers");
        w.put("idle", pool.stream().filter(a -> a.inFlight() == 0).count());
        w.put("running", pool.stream().filter(a -> a.inFlight() > 0).count());
        return o;
    }

    // ---- the one status table and the two shapes

    /** Kiln's job status → RunPod's. */
    static String runPodStatus(JobStatus s) {
        return switch (s) {
            case QUEUED -> "IN_QUEUE";
            case RUNNING -> "IN_PROGRESS";
            case SUCCEEDED -> "COMPLETED";
            case FAILED -> "FAILED";
            case CANCELED -> "CANCELLED";
            case TIMED_OUT -> "TIMED_OUT";
        };
    }

    /** RunPod's {@code /status} body: {@code id, status, delayTime, executionTime, output?, error?} (times in ms). */
    ObjectNode envelope(Job j) {
        ObjectNode o = Json.object();
        o.put("id", j.id());
        o.put("status", runPodStatus(j.status()));
        if (j.startedAt() != null) {
            o.put("delayTime", Math.max(0, Duration.between(j.createdAt(), j.startedAt()).toMillis()));
            Instant end = j.finishedAt() != null ? j.finishedAt() : clock.instant();
            o.put("executionTime", Math.max(0, Duration.between(j.startedAt(), end).toMillis()));
        } else if (j.status().terminal() && j.finishedAt() != null) {
            o.put("delayTime", Math.max(0, Duration.between(j.createdAt(), j.finishedAt()).toMillis()));
            o.put("executionTime", 0);
        }
        switch (j.status()) {
            case SUCCEEDED -> o.set("output", completed(j));
            case FAILED -> {
                o.set("output", error(message(j)));
                o.put("error", message(j));
            }
            case TIMED_OUT -> {
                o.set("output", timeout());
                o.put("error", TIMEOUT_MESSAGE);
            }
            default -> { }
        }
        return o;
    }

    /**
     * The seed handler's own answer ({@code {"status":"completed","results":[…]}}, {@code error},
     * {@code timeout}), with the job's {@code id}; a job still going says {@code in_queue} or
     * {@code in_progress}, a cancelled one is an {@code error}.
     */
    ObjectNode bare(Job j) {
        ObjectNode o = switch (j.status()) {
            case SUCCEEDED -> completed(j);
            case FAILED -> error(message(j));
            case TIMED_OUT -> timeout();
            case CANCELED -> error("the request was cancelled");
            case QUEUED -> Json.object().put("status", "in_queue");
            case RUNNING -> Json.object().put("status", "in_progress");
        };
        ObjectNode out = Json.object();
        out.put("id", j.id());
        out.setAll(o);
        return out;
    }

    static ObjectNode error(String message) {
        return Json.object().put("status", "error").put("message", message);
    }

    static ObjectNode timeout() {
        return Json.object().put("status", "timeout").put("message", TIMEOUT_MESSAGE);
    }

    private static String message(Job j) {
        return j.errorMessage() == null || j.errorMessage().isBlank() ? "the workflow failed" : j.errorMessage();
    }

    /** {@code {"status":"completed","results":[{filename, image}]}}: each output's original file name and its bytes in base64. */
    private ObjectNode completed(Job j) {
        ObjectNode o = Json.object().put("status", "completed");
        ArrayNode results = o.putArray("results");
        List<Asset> outs = assets.outputsOf(j.id());
        for (int i = 0; i < outs.size(); i++) {
            Asset a = outs.get(i);
            ObjectNode r = results.addObject();
            r.put("filename", filename(a, j, i));
            r.put("image", base64(a));
        }
        return o;
    }

    static String filename(Asset a, Job j, int index) {
        String name = a.metadata() == null ? null : a.metadata().path("filename").asString(null);
        if (name != null && !name.isBlank()) return name;
        return j.id() + "_" + (index + 1) + extension(a.mime());
    }

    private static String extension(String mime) {
        return switch (mime == null ? "" : mime.toLowerCase(Locale.ROOT)) {
            case "image/jpeg" -> ".jpg";
            case "image/webp" -> ".webp";
            case "image/gif" -> ".gif";
            case "video/mp4" -> ".mp4";
            case "video/webm" -> ".webm";
            default -> ".png";
        };
    }

    private String base64(Asset a) {
        try (InputStream in = assets.open(a.sha256(), 0, -1)) {
            return Base64.getEncoder().encodeToString(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read output " + a.id(), e);
        }
    }
}

package dev.kiln.compat.mediagen;

import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.config.KilnProperties;
import dev.kiln.job.Job;
import dev.kiln.job.JobService;
import dev.kiln.job.JobStatus;
import dev.kiln.run.Run;
import dev.kiln.run.RunService;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;
import tools.jackson.databind.JsonNode;

/**
 * MediaGen's tasks as Kiln keeps them: every {@code POST /generate} is one run of
 * {@code batch_size} jobs with origin {@value GeneratePayload#ORIGIN}, and its run id is the
 * {@code job_id}/{@code task_id} MediaGen's client polls. This renders tasks in MediaGen's shapes
 * ({@code GenerationResponse} and the status, results and gallery answers); output URLs are
 * absolute and signed, so a page on another origin can show them without credentials.
 */
@ConditionalOnCompat("003")
@Component
class Tasks {
    /** How long an output URL in an answer stays valid. */
    static final Duration URL_LIFETIME = Duration.ofHours(24);

    private final RunService runs;
    private final JobService jobs;
    private final AssetService assets;
    private final KilnProperties props;

    Tasks(RunService runs, JobService jobs, AssetService assets, KilnProperties props) {
        this.runs = runs;
        this.jobs = jobs;
        this.assets = assets;
        this.props = props;
    }

    /** A task: its run (null for a lone job id) and its jobs that are not deleted, with their outputs. */
    record Task(String id, Run run, List<Job> jobs, Map<String, List<Asset>> outputs) {
        JsonNode request() {
            return run == null ? null : run.request();
        }

        String model() {
            return run != null ? run.model() : jobs.getFirst().model();
        }

        String mode() {
            return run != null ? run.mode() : jobs.getFirst().mode();
        }

        String status() {
            return TaskStates.of(jobs.stream().map(Job::status).toList());
        }

        Instant createdAt() {
            return run != null ? run.createdAt() : jobs.getFirst().createdAt();
        }
    }

    /** The caller's MediaGen task; another user's, a deleted one or another API's answers 404. */
    Task find(Caller caller, String id) {
        List<Job> list;
        Run run = null;
        try {
            if (runs.originOf(id).isPresent()) {
                run = runs.get(caller, id);
                list = run.origin().equals(GeneratePayload.ORIGIN) ? runs.jobsOf(run) : List.of();
            } else {
                Job j = jobs.get(caller, id);
                list = j.origin().equals(GeneratePayload.ORIGIN) ? List.of(j) : List.of();
            }
        } catch (KilnException e) {
            list = List.of();
        }
        if (list.isEmpty()) throw new MediaGenException(404, "not_found", "Task not found: " + id, null);
        return task(id, run, list);
    }

    private Task task(String id, Run run, List<Job> list) {
        List<String> done = list.stream().filter(j -> j.status() == JobStatus.SUCCEEDED).map(Job::id).toList();
        return new Task(id, run, list, done.isEmpty() ? Map.of() : assets.outputsOf(done));
    }

    /** The caller's tasks (an admin's: everyone's), newest first, from before the {@code before} id. */
    List<Task> list(Caller caller, String before, int limit) {
        List<Task> out = new ArrayList<>();
        for (Run r : runs.listVisible(caller, GeneratePayload.ORIGIN, before, limit)) {
            List<Job> list = runs.jobsOf(r);
            if (!list.isEmpty()) out.add(task(r.id(), r, list));
        }
        return out;
    }

    /** Deletes the task's jobs and their outputs (a running job is cancelled first). */
    void delete(Caller caller, Task t) {
        for (Job j : t.jobs()) jobs.delete(caller, j.id());
    }

    /** Progress in percent: finished jobs count whole. */
    static int progress(Task t) {
        double sum = 0;
        for (Job j : t.jobs()) sum += j.status().terminal() ? 1.0 : Math.max(0, Math.min(1, j.progress()));
        return (int) Math.floor(100 * sum / t.jobs().size());
    }

    /** Why a failed task failed, in MediaGen's words: the error and a code. */
    static Map<String, String> failure(Task t) {
        Job j = t.jobs().stream().filter(x -> x.status() != JobStatus.SUCCEEDED && x.status().terminal()).findFirst().orElse(null);
        Map<String, String> m = new LinkedHashMap<>();
        if (j == null) return m;
        switch (j.status()) {
            case CANCELED -> {
                m.put("error", "Generation was cancelled");
                m.put("code", "cancelled");
            }
            case TIMED_OUT -> {
                m.put("error", "Generation timed out");
                m.put("code", "timed_out");
            }
            default -> {
                m.put("error", j.errorMessage() != null ? j.errorMessage() : "Generation failed");
                m.put("code", j.errorCode() != null ? j.errorCode() : "generation_failed");
            }
        }
        return m;
    }

    /** An absolute, signed URL to an asset's bytes. */
    String url(Asset a) {
        return base() + assets.signedPath(a.id(), URL_LIFETIME);
    }

    /** The absolute URL of a task's preview image. */
    String previewUrl(Task t) {
        return base() + "/preview/" + t.id();
    }

    /** PUBLIC_BASE_URL, or the scheme, host and port this request came to. */
    String base() {
        String base = props.webhookBase();
        return base != null ? base : ServletUriComponentsBuilder.fromCurrentContextPath().build().toUriString().replaceAll("/+$", "");
    }

    /** One output with the job that made it. */
    record Output(Job job, Asset asset) {}

    static List<Output> outputs(Task t) {
        List<Output> out = new ArrayList<>();
        for (Job j : t.jobs()) for (Asset a : t.outputs().getOrDefault(j.id(), List.of())) out.add(new Output(j, a));
        return out;
    }

    /**
     * MediaGen's {@code GenerationResponse} for a completed task: the first output as {@code url}
     * (every output in {@code urls} when batch_size > 1), the seed it used, its real size, and
     * {@code metadata} with the inference time (from the provider's start to its end; no provider
     * reports GPU time apart, so {@code gpu_time} is the same figure).
     */
    Map<String, Object> generationResponse(Task t) {
        List<Output> outs = outputs(t);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "success");
        Output first = outs.isEmpty() ? null : outs.getFirst();
        Job job = first != null ? first.job() : t.jobs().getFirst();
        m.put("url", first == null ? null : url(first.asset()));
        m.put("seed", seed(job));
        m.put("width", first != null && first.asset().width() != null ? first.asset().width() : intParam(job, "width"));
        m.put("height", first != null && first.asset().height() != null ? first.asset().height() : intParam(job, "height"));
        m.put("model", SeedModel.seedName(t.model()));
        m.put("type", type(t));
        m.put("urls", outs.stream().map(o -> url(o.asset())).toList());
        m.put("metadata", metadata(t, job, first == null ? null : first.asset()));
        return m;
    }

    Map<String, Object> metadata(Task t, Job job, Asset a) {
        Map<String, Object> md = new LinkedHashMap<>();
        Double inference = inferenceSeconds(job);
        md.put("inference_time", inference);
        md.put("gpu_time", inference);
        if ("video".equals(type(t))) {
            md.put("num_frames", a != null && a.frames() != null ? a.frames() : intParam(job, "num_frames"));
            md.put("fps", a != null && a.fps() != null ? a.fps() : intParam(job, "fps"));
        }
        return md;
    }

    static String type(Task t) {
        String type = SeedModel.typeOf(t.model());
        return type != null ? type : null;
    }

    static Object seed(Job j) {
        JsonNode s = j.params() == null ? null : j.params().get("seed");
        return s == null || s.isNull() ? null : s.asLong();
    }

    static Integer intParam(Job j, String name) {
        JsonNode v = j.params() == null ? null : j.params().get(name);
        return v == null || !v.isNumber() ? null : v.asInt();
    }

    /** Seconds from the job's start at the provider to its end, or null while it has not ended. */
    static Double inferenceSeconds(Job j) {
        Instant from = j.submittedAt() != null ? j.submittedAt() : j.startedAt();
        if (from == null || j.finishedAt() == null) return null;
        return Math.max(0, Duration.between(from, j.finishedAt()).toMillis()) / 1000.0;
    }
}

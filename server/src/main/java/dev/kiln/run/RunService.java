package dev.kiln.run;

import dev.kiln.job.GenerationRequest;
import dev.kiln.job.Job;
import dev.kiln.job.JobService;
import dev.kiln.job.JobStatus;
import dev.kiln.job.JobStore;
import dev.kiln.support.Ids;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import tools.jackson.databind.JsonNode;

/**
 * Runs (batches): prompts × count × grid expanded into jobs at submission ({@link BatchExpansion}).
 * A run is a view of its jobs; it has no worker of its own.
 */
@Service
public class RunService {
    private final RunStore runs;
    private final JobService jobs;
    private final JobStore jobStore;
    private final Clock clock;

    RunService(RunStore runs, JobService jobs, JobStore jobStore, Clock clock) {
        this.runs = runs;
        this.jobs = jobs;
        this.jobStore = jobStore;
        this.clock = clock;
    }

    /** A validated run, ready to insert. */
    public record Prepared(Run run, JobService.Plan plan) {}

    /** Validates and expands a {@code /v1} run request (slow checks included); nothing is written. */
    public Prepared prepare(Caller caller, JsonNode body) {
        return prepare(caller, jobs.check(caller, body, true), body);
    }

    /**
     * Validates and expands a typed run request (a façade's); nothing is written.
     *
     * @param received the request as the façade received it, kept with the run (what its own
     *     status answers show back, e.g. the prompt)
     */
    public Prepared prepare(Caller caller, GenerationRequest request, JsonNode received) {
        return prepare(caller, jobs.check(caller, request, true), received);
    }

    private Prepared prepare(Caller caller, JobService.Checked checked, JsonNode received) {
        String id = Ids.newId("run");
        JobService.Plan plan = jobs.plan(caller, checked, BatchExpansion.expand(checked.request()), id);
        Run run = new Run(id, caller.id(), plan.request().model().id(), plan.request().mode(), plan.jobs().size(), received,
                clock.instant(), plan.request().origin());
        return new Prepared(run, plan);
    }

    @Transactional
    public Run insert(Prepared p) {
        runs.insert(p.run());
        jobs.insert(p.plan());
        return p.run();
    }

    /** Removes runs created before {@code before} whose jobs are all gone (retention); returns how many. */
    public int purgeEmpty(Instant before, int limit) {
        return runs.deleteEmpty(before, limit);
    }

    /** Which API created the run with this id ({@code v1} or a façade's id), whoever owns it. */
    public java.util.Optional<String> originOf(String id) {
        return runs.find(id).map(Run::origin);
    }

    /** The run with this id whoever owns it, for Kiln's own use (the archive); callers go through {@link #get}. */
    public java.util.Optional<Run> find(String id) {
        return runs.find(id);
    }

    public Run get(Caller caller, String id) {
        Run r = runs.find(id).orElse(null);
        if (r == null || !caller.owns(r.ownerId())) throw KilnException.notFound("run", id);
        return r;
    }

    public List<Run> list(Caller caller, String before, int limit) {
        return runs.list(caller.isAdmin() ? null : caller.id(), before, limit);
    }

    /** The caller's runs (every run for an admin) that {@code origin} created and that still have a job, newest first. */
    public List<Run> listVisible(Caller caller, String origin, String before, int limit) {
        return runs.listVisible(caller.isAdmin() ? null : caller.id(), origin, before, limit);
    }

    /** The derived state of a run. */
    public record Summary(String status, int total, Map<JobStatus, Integer> counts, Instant finishedAt, double elapsedSeconds) {}

    public Summary summarize(Run r) {
        JobStore.RunTally t = jobStore.tally(r.id());
        int terminal = 0;
        for (var e : t.counts().entrySet()) if (e.getKey().terminal()) terminal += e.getValue();
        int total = t.counts().values().stream().mapToInt(Integer::intValue).sum();
        int succeeded = t.counts().get(JobStatus.SUCCEEDED);
        boolean done = terminal == total;
        String status = !done ? "running" : succeeded == total ? "succeeded" : succeeded == 0 ? "failed" : "partial";
        Instant finished = done ? t.lastFinishedAt() : null;
        Instant end = finished != null ? finished : clock.instant();
        double elapsed = Duration.between(r.createdAt(), end).toMillis() / 1000.0;
        return new Summary(status, total, t.counts(), finished, Math.max(0, elapsed));
    }

    public List<Job> jobsOf(Run r) {
        return jobStore.listByRun(r.id());
    }

    /** Cancels every job of the run that has not finished. */
    public Run cancel(Caller caller, String id) {
        Run r = get(caller, id);
        for (String jobId : jobStore.activeIdsOfRun(r.id())) jobs.cancel(caller, jobId);
        return r;
    }
}

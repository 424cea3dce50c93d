package dev.kiln.api;

import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.job.Job;
import dev.kiln.job.JobService;
import dev.kiln.job.JobStatus;
import dev.kiln.run.Run;
import dev.kiln.run.RunService;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/** Builds the API's JSON views of jobs and runs, with their outputs in one query. */
@Component
class Views {
    private final AssetService assets;
    private final JobService jobs;
    private final RunService runs;

    Views(AssetService assets, JobService jobs, RunService runs) {
        this.assets = assets;
        this.jobs = jobs;
        this.runs = runs;
    }

    record OutputView(String assetId, String url, String thumbnailUrl, String mime, Integer width, Integer height,
                      long size, String sha256, Integer frames, Double fps, Long durationMs) {}

    record ErrorView(String code, String message) {}

    record JobView(String id, String runId, String model, String mode, String provider, String status, double progress,
                   Integer queuePosition, String prompt, String negativePrompt, JsonNode params, JsonNode inputs,
                   JsonNode gridCell, int attempts, String remoteId, List<OutputView> outputs, ErrorView error,
                   BigDecimal cost, Integer etaSeconds, Instant createdAt, Instant startedAt, Instant finishedAt,
                   Instant deadlineAt, String origin, String lane) {}

    record RunView(String id, String model, String mode, String status, int total, Map<String, Integer> counts,
                   List<JobView> jobs, BigDecimal cost, Instant createdAt, Instant finishedAt, double elapsedSeconds,
                   String origin) {}

    JobView job(Job j) {
        return jobs(List.of(j), true).getFirst();
    }

    /**
     * Views of many jobs. A queued job's position in its lane's fair order is computed only when
     * asked, in one query per lane for the whole list.
     */
    List<JobView> jobs(List<Job> list, boolean withQueuePosition) {
        List<String> done = list.stream().filter(j -> j.status() == JobStatus.SUCCEEDED).map(Job::id).toList();
        Map<String, List<Asset>> outputs = done.isEmpty() ? Map.of() : assets.outputsOf(done);
        Map<String, Integer> positions = withQueuePosition ? jobs.queuePositions(list) : Map.of();
        return list.stream().map(j -> view(j, outputs.getOrDefault(j.id(), List.of()),
                withQueuePosition ? positions.get(j.id()) : j.queuePosition())).toList();
    }

    private static JobView view(Job j, List<Asset> outs, Integer queuePosition) {
        List<OutputView> outputs = outs.stream().map(a -> new OutputView(a.id(), "/v1/assets/" + a.id(),
                "/v1/assets/" + a.id() + "/thumbnail", a.mime(), a.width(), a.height(), a.size(), a.sha256(), a.frames(), a.fps(), a.durationMs()))
                .toList();
        ErrorView error = j.errorCode() == null || j.status() == JobStatus.SUCCEEDED ? null : new ErrorView(j.errorCode(), j.errorMessage());
        return new JobView(j.id(), j.runId(), j.model(), j.mode(), j.provider(), j.status().wire(), j.progress(),
                j.status().terminal() ? null : queuePosition, j.prompt(), j.negativePrompt(), j.params(), j.inputs(), j.gridCell(),
                j.attempt(), j.remoteId(), outputs, error, j.cost(), j.etaSeconds(), j.createdAt(), j.startedAt(),
                j.finishedAt(), j.deadlineAt(), j.origin(), j.lane());
    }

    RunView run(Run r, boolean withJobs) {
        RunService.Summary s = runs.summarize(r);
        Map<String, Integer> counts = new LinkedHashMap<>();
        s.counts().forEach((k, v) -> counts.put(k.wire(), v));
        List<Job> list = withJobs ? runs.jobsOf(r) : List.of();
        BigDecimal cost = withJobs ? list.stream().map(Job::cost).reduce(BigDecimal.ZERO, BigDecimal::add) : null;
        return new RunView(r.id(), r.model(), r.mode(), s.status(), s.total(), counts, withJobs ? jobs(list, true) : null,
                cost, r.createdAt(), s.finishedAt(), s.elapsedSeconds(), r.origin());
    }
}

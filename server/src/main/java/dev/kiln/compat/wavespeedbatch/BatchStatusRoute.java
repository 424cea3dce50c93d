package dev.kiln.compat.wavespeedbatch;

import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.compat.StatusRoute;
import dev.kiln.job.Job;
import dev.kiln.run.Run;
import dev.kiln.run.RunService;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;

/**
 * {@code GET /status/{runId}} for the batch generator's runs, every field of its answer:
 * {@code runId, status, prompt, totalTasks, completedTasks, failedTasks, requestIds, seenIds,
 * failedIds, startTime, elapsedSeconds}. {@code requestIds} are the provider's prediction ids in
 * the order the tasks were submitted (a task Kiln has not submitted yet has none); {@code seenIds}
 * are the tasks that ended, {@code failedIds} those of them that failed (a task that failed before
 * reaching the provider is named by its Kiln job id). Kiln adds {@code size} (the size made) and
 * {@code outputs} (the images, as Kiln asset URLs) for the live view of {@code /app}.
 */
@Component
@ConditionalOnCompat("000")
class BatchStatusRoute implements StatusRoute {
    private final RunService runs;
    private final AssetService assets;

    BatchStatusRoute(RunService runs, AssetService assets) {
        this.runs = runs;
        this.assets = assets;
    }

    @Override
    public String origin() {
        return BatchController.ORIGIN;
    }

    @Override
    public ResponseEntity<?> status(Caller caller, String id) {
        Run run;
        try {
            run = runs.get(caller, id);
        } catch (KilnException e) {
            return SeedErrors.of(404, "Run not found", null);
        }
        List<Job> jobs = runs.jobsOf(run);
        List<String> requestIds = new ArrayList<>(), seenIds = new ArrayList<>(), failedIds = new ArrayList<>();
        List<String> done = new ArrayList<>();
        int completed = 0, failed = 0;
        for (Job j : jobs) {
            if (j.remoteId() != null) requestIds.add(j.remoteId());
            String word = SeedStatus.task(j.status());
            String name = j.remoteId() != null ? j.remoteId() : j.id();
            if (word.equals(SeedStatus.COMPLETED)) {
                completed++;
                seenIds.add(name);
                done.add(j.id());
            } else if (word.equals(SeedStatus.FAILED)) {
                failed++;
                seenIds.add(name);
                failedIds.add(name);
            }
        }
        RunService.Summary summary = runs.summarize(run);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("runId", run.id());
        m.put("status", SeedStatus.batch(run.total(), completed, failed));
        m.put("prompt", run.request().path("prompt").asString(jobs.isEmpty() ? null : jobs.getFirst().prompt()));
        m.put("totalTasks", run.total());
        m.put("completedTasks", completed);
        m.put("failedTasks", failed);
        m.put("requestIds", requestIds);
        m.put("seenIds", seenIds);
        m.put("failedIds", failedIds);
        m.put("startTime", run.createdAt().toEpochMilli());
        m.put("elapsedSeconds", (long) Math.floor(summary.elapsedSeconds()));
        if (run.request().hasNonNull("size")) m.put("size", run.request().get("size").asString());
        Map<String, List<Asset>> outs = done.isEmpty() ? Map.of() : assets.outputsOf(done);
        List<String> outputs = new ArrayList<>();
        for (String jobId : done) for (Asset a : outs.getOrDefault(jobId, List.of())) outputs.add("/v1/assets/" + a.id());
        m.put("outputs", outputs);
        return ResponseEntity.ok(m);
    }
}

package dev.kiln.housekeeping;

import dev.kiln.config.RetentionProperties;
import dev.kiln.job.JobService;
import dev.kiln.run.RunService;
import java.time.Instant;
import org.springframework.stereotype.Component;

/** Finished jobs older than {@code KILN_RETAIN_JOBS}, with their history, deliveries and outputs; then runs left empty. */
@Component
class FinishedJobsTask extends HousekeepingTask {
    private final JobService jobs;
    private final RunService runs;
    private final RetentionProperties retention;

    FinishedJobsTask(JobService jobs, RunService runs, RetentionProperties retention) {
        this.jobs = jobs;
        this.runs = runs;
        this.retention = retention;
    }

    @Override
    String removes() {
        return "finished jobs and empty runs";
    }

    @Override
    int runTask(Instant now) {
        return RetentionProperties.limit(retention.jobs()).map(keep -> {
            Instant before = now.minus(keep);
            return inBatches(() -> jobs.purgeFinished(before, BATCH)) + inBatches(() -> runs.purgeEmpty(before, BATCH));
        }).orElse(0);
    }
}

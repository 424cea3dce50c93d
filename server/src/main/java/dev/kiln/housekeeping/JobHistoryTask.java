package dev.kiln.housekeeping;

import dev.kiln.config.RetentionProperties;
import dev.kiln.job.JobStore;
import java.time.Instant;
import org.springframework.stereotype.Component;

/** The history of jobs that finished longer than {@code KILN_RETAIN_HISTORY} ago (the jobs stay). */
@Component
class JobHistoryTask extends HousekeepingTask {
    private final JobStore jobs;
    private final RetentionProperties retention;

    JobHistoryTask(JobStore jobs, RetentionProperties retention) {
        this.jobs = jobs;
        this.retention = retention;
    }

    @Override
    String removes() {
        return "history entries of finished jobs";
    }

    @Override
    int runTask(Instant now) {
        return RetentionProperties.limit(retention.history())
                .map(keep -> inBatches(() -> jobs.trimHistory(now.minus(keep), BATCH))).orElse(0);
    }
}

package dev.kiln.compat.wavespeedbatch;

import dev.kiln.job.JobStatus;

/**
 * The one status-mapping table of the façade: Kiln's job states → the batch generator's words.
 * A task is {@code processing} until it ends; it then counts as completed (succeeded) or failed
 * (failed, cancelled, timed out — the generator marks a task that is not done after its 20
 * minutes as failed). A batch is {@code processing} while any task is, then {@code completed}
 * once every task has been seen, or {@code failed} when none of them succeeded.
 */
final class SeedStatus {
    static final String PROCESSING = "processing";
    static final String COMPLETED = "completed";
    static final String FAILED = "failed";

    private SeedStatus() {}

    static String task(JobStatus s) {
        return switch (s) {
            case QUEUED, RUNNING -> PROCESSING;
            case SUCCEEDED -> COMPLETED;
            case FAILED, CANCELED, TIMED_OUT -> FAILED;
        };
    }

    static String batch(int total, int completed, int failed) {
        if (completed + failed < total) return PROCESSING;
        return completed == 0 && total > 0 ? FAILED : COMPLETED;
    }
}

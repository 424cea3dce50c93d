package dev.kiln.compat.mediagen;

import dev.kiln.job.JobStatus;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;

/**
 * The one status table of the MediaGen façade: core job states → the words MediaGen's client
 * polls for ({@code pollJobStatus} stops at {@code completed} and {@code failed}). A cancelled or
 * timed-out job is {@code failed} (with {@code code} saying which), so that client's loop ends.
 */
final class TaskStates {
    static final String QUEUED = "queued";
    static final String PROCESSING = "processing";
    static final String COMPLETED = "completed";
    static final String FAILED = "failed";

    private static final Map<JobStatus, String> WORDS = new EnumMap<>(Map.of(
            JobStatus.QUEUED, QUEUED,
            JobStatus.RUNNING, PROCESSING,
            JobStatus.SUCCEEDED, COMPLETED,
            JobStatus.FAILED, FAILED,
            JobStatus.CANCELED, FAILED,
            JobStatus.TIMED_OUT, FAILED));

    private TaskStates() {}

    static String of(JobStatus s) {
        return WORDS.get(s);
    }

    /**
     * A task of several jobs (batch_size > 1): processing while any runs, queued while all wait,
     * completed once all ended with at least one image or video, else failed.
     */
    static String of(Collection<JobStatus> jobs) {
        if (jobs.isEmpty()) return FAILED;
        if (jobs.stream().allMatch(JobStatus::terminal)) {
            return jobs.contains(JobStatus.SUCCEEDED) ? COMPLETED : FAILED;
        }
        return jobs.stream().allMatch(s -> s == JobStatus.QUEUED) ? QUEUED : PROCESSING;
    }
}

package dev.kiln.compat.dotbase;

import dev.kiln.job.JobStatus;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The one status table of the {@code .base} API: Kiln's job states in the three words its
 * generations have. Queued and running are both {@code processing} (the seed created its
 * Replicate prediction at once, so it never showed a queue); every ending without outputs is
 * {@code failed}, its reason in {@code error_message}.
 */
final class DotbaseStatus {
    static final String PROCESSING = "processing";
    static final String COMPLETED = "completed";
    static final String FAILED = "failed";
    static final List<String> WORDS = List.of(PROCESSING, COMPLETED, FAILED);

    private static final Map<JobStatus, String> TABLE = new EnumMap<>(Map.of(
            JobStatus.QUEUED, PROCESSING,
            JobStatus.RUNNING, PROCESSING,
            JobStatus.SUCCEEDED, COMPLETED,
            JobStatus.FAILED, FAILED,
            JobStatus.CANCELED, FAILED,
            JobStatus.TIMED_OUT, FAILED));

    private DotbaseStatus() {}

    static String of(JobStatus s) {
        return TABLE.get(s);
    }

    /** The job states a seed word stands for (the list filter), or null for a word the seed does not have. */
    static List<JobStatus> statuses(String word) {
        if (!WORDS.contains(word)) return null;
        return Arrays.stream(JobStatus.values()).filter(s -> TABLE.get(s).equals(word)).toList();
    }
}

package dev.kiln.job;

/** Someone else changed the job since it was read (optimistic lock); reload and decide again. */
public class ConcurrentJobChange extends RuntimeException {
    public ConcurrentJobChange(String jobId) {
        super("job " + jobId + " changed concurrently", null, false, false);
    }
}

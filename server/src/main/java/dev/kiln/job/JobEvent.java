package dev.kiln.job;

/**
 * Published after a committed change of a job that clients may care about (status, phase,
 * progress, queue position). Listeners must be quick; they run on the committing thread.
 */
public record JobEvent(Job job, JobStatus previousStatus) {
    public boolean statusChanged() {
        return previousStatus != job.status();
    }
}

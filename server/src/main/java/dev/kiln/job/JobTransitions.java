package dev.kiln.job;

import static dev.kiln.job.JobStatus.*;

/** The one table of allowed status changes. */
public final class JobTransitions {
    private JobTransitions() {}

    public static boolean allowed(JobStatus from, JobStatus to) {
        return switch (from) {
            case QUEUED -> to == RUNNING || to == CANCELED || to == FAILED || to == TIMED_OUT;
            // RUNNING -> QUEUED is a retry: the attempt failed in a way a new attempt may fix.
            case RUNNING -> to == QUEUED || to == SUCCEEDED || to == FAILED || to == CANCELED || to == TIMED_OUT;
            case SUCCEEDED, FAILED, CANCELED, TIMED_OUT -> false;
        };
    }

    /** Thrown when code asks for a change the table forbids: a bug, never a client error. */
    public static final class IllegalTransition extends IllegalStateException {
        public IllegalTransition(String jobId, JobStatus from, JobStatus to) {
            super("job " + jobId + " cannot change state from " + from.wire() + " to " + to.wire());
        }
    }
}

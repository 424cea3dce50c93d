package dev.kiln.job;

/** The states of a job as clients see them. */
public enum JobStatus {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED, TIMED_OUT;

    public boolean terminal() {
        return switch (this) {
            case QUEUED, RUNNING -> false;
            case SUCCEEDED, FAILED, CANCELED, TIMED_OUT -> true;
        };
    }

    public String wire() {
        return name().toLowerCase();
    }

    public static JobStatus of(String wire) {
        return valueOf(wire.toUpperCase());
    }
}

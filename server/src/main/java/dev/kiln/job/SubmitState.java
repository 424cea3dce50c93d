package dev.kiln.job;

/** Where the dangerous submit stands (docs/ARCHITECTURE.md). */
public enum SubmitState {
    /** Not submitted in this attempt. */
    NONE,
    /** Kiln recorded that it is about to call the provider; the call may or may not have happened. */
    INTENT,
    /** The provider answered with a remote id, which is recorded. */
    SENT;

    public String wire() {
        return name().toLowerCase();
    }

    public static SubmitState of(String wire) {
        return valueOf(wire.toUpperCase());
    }
}

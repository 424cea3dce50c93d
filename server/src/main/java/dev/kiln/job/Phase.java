package dev.kiln.job;

/**
 * What Kiln must do next for a job; finer than its status, and the key of the engine's loops.
 *
 * <ul>
 *   <li>{@code DISPATCH} — queued: waiting for an account with room (and for {@code next_at} after a retry backoff).
 *   <li>{@code SUBMIT} — running: the intent to submit is recorded; the provider call is under way or its outcome is unknown.
 *   <li>{@code TRACK} — running: the provider has it (remote id recorded); poll it / wait for a webhook.
 *   <li>{@code FETCH} — running: the provider finished; outputs must be copied into Kiln's storage.
 *   <li>{@code CANCEL} — terminal (canceled or timed out) but the provider still has to be told to stop.
 *   <li>{@code DONE} — nothing left to do.
 * </ul>
 */
public enum Phase {
    DISPATCH, SUBMIT, TRACK, FETCH, CANCEL, DONE;

    public String wire() {
        return name().toLowerCase();
    }

    public static Phase of(String wire) {
        return valueOf(wire.toUpperCase());
    }

    /** Whether a job in this phase (while running) occupies one of its account's concurrency slots. */
    public boolean holdsSlot() {
        return this == SUBMIT || this == TRACK;
    }
}

package dev.kiln.engine;

import org.slf4j.Logger;

/**
 * What the engine's loops do with a failure they did not expect: log it and go on after a short
 * pause. Any {@link Throwable}, {@link Error}s included — an {@link OutOfMemoryError} in one round
 * (a huge provider answer, say) or an {@link AssertionError} from a bug must not stop dispatching
 * for good, leaving every later job queued forever. A round holds nothing between iterations, so
 * the next one starts clean.
 */
final class Loops {
    static final long PAUSE_MILLIS = 500;

    private Loops() {}

    /**
     * Logs and pauses; re-interrupts the thread if the pause was interrupted (the loop then ends).
     */
    static void survive(Logger log, String what, Throwable t) {
        try {
            if (t instanceof Error) log.error("{} failed; carrying on", what, t);
            else log.warn("{} failed: {}", what, t.toString());
        } catch (Throwable ignored) {
            // Logging itself may fail under memory pressure; the loop must still go on.
        }
        try {
            Thread.sleep(PAUSE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

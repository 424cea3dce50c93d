package dev.kiln.pod;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One concern of the pod pool, run every {@code KILN_PODS_INTERVAL} by {@link PodPool} (the shape
 * of the housekeeping tasks: a base class that runs and guards, one small class per concern).
 */
abstract class PodTask {
    private final Logger log = LoggerFactory.getLogger(getClass());
    final PoolOps ops;

    PodTask(PoolOps ops) {
        this.ops = ops;
    }

    /** The order tasks run in within a round (watch first, so later ones see fresh states). */
    abstract int order();

    abstract void runTask();

    /** Runs the task; a failure is logged and leaves the other tasks and the next round unaffected. */
    final void run() {
        try {
            runTask();
        } catch (RuntimeException e) {
            log.warn("pod pool task {} failed; it runs again next round: {}", getClass().getSimpleName(), e.toString());
        }
    }
}

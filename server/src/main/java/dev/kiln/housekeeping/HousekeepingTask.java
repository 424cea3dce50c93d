package dev.kiln.housekeeping;

import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One periodic concern of {@link Housekeeping}, one small class each (the shape of JobRunr's
 * {@code org.jobrunr.server.zookeeper.tasks}: a base class that runs and guards, subclasses that only
 * say what to remove). Tasks remove in bounded batches, so a large backlog never holds a long lock.
 */
abstract class HousekeepingTask {
    static final int BATCH = 500;
    /** Most batches per run; the rest waits for the next run, so one run stays short. */
    static final int MAX_BATCHES = 200;
    private final Logger log = LoggerFactory.getLogger(getClass());

    /** Does this task's work once; returns how many things it removed. */
    abstract int runTask(Instant now);

    /** What the task removes, for the log. */
    abstract String removes();

    /** Runs the task; a failure is logged and leaves the next task and the next run unaffected. */
    final int run(Instant now) {
        try {
            int n = runTask(now);
            if (n > 0) log.info("housekeeping removed {} {}", n, removes());
            return n;
        } catch (Throwable t) {
            log.warn("housekeeping of {} failed; it runs again next time: {}", removes(), t.toString());
            return 0;
        }
    }

    /** Repeats a batch while it removes a full one, up to {@link #MAX_BATCHES}. */
    static int inBatches(java.util.function.IntSupplier batch) {
        int total = 0;
        for (int i = 0; i < MAX_BATCHES; i++) {
            int n = batch.getAsInt();
            total += n;
            if (n < BATCH) break;
        }
        return total;
    }
}

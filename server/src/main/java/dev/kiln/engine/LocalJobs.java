package dev.kiln.engine;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;

/**
 * The jobs this process is driving right now, each with a nudge: a webhook or a cancel for a job
 * whose runner is waiting in memory wakes that runner at once instead of waiting for its timer.
 */
@Component
class LocalJobs {
    private final ConcurrentHashMap<String, Semaphore> nudges = new ConcurrentHashMap<>();

    void register(String jobId) {
        nudges.put(jobId, new Semaphore(0));
    }

    void unregister(String jobId) {
        nudges.remove(jobId);
    }

    /** Waits up to {@code d}; returns early (true) if nudged. */
    boolean await(String jobId, Duration d) throws InterruptedException {
        Semaphore s = nudges.get(jobId);
        if (s == null) {
            Thread.sleep(d);
            return false;
        }
        boolean nudged = s.tryAcquire(Math.max(0, d.toNanos()), TimeUnit.NANOSECONDS);
        s.drainPermits();
        return nudged;
    }

    /** Whether the job was nudged since its last wait (a webhook that came while its submit was in flight); clears it. */
    boolean takeNudge(String jobId) {
        Semaphore s = nudges.get(jobId);
        return s != null && s.drainPermits() > 0;
    }

    /** Returns true if this process is driving the job (and it has been nudged). */
    boolean nudge(String jobId) {
        Semaphore s = nudges.get(jobId);
        if (s == null) return false;
        s.release();
        return true;
    }

    int size() {
        return nudges.size();
    }
}

package dev.kiln.engine;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** A wake-up for a loop: many signals while it works collapse into one. */
final class Signal {
    private final Semaphore permits = new Semaphore(0);

    void signal() {
        if (permits.availablePermits() == 0) permits.release();
    }

    /** Sleeps until signalled or until {@code max} passed; returns true if signalled. */
    boolean await(Duration max) throws InterruptedException {
        if (max.isNegative() || max.isZero()) return permits.tryAcquire();
        boolean got = permits.tryAcquire(max.toNanos(), TimeUnit.NANOSECONDS);
        permits.drainPermits();
        return got;
    }
}

package dev.kiln.engine;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Capped exponential backoff with jitter (75–100 % of the step), for retries and polls. */
final class Backoff {
    private Backoff() {}

    /** {@code base · growth^n}, capped, then jittered down by up to 25 %. */
    static Duration of(Duration base, double growth, Duration cap, int n) {
        double ms = base.toMillis() * Math.pow(growth, Math.max(0, n));
        ms = Math.min(ms, cap.toMillis());
        ms *= 0.75 + 0.25 * ThreadLocalRandom.current().nextDouble();
        return Duration.ofMillis(Math.max(1, (long) ms));
    }

    /** Retry of a failed attempt: 2 s, 4 s, 8 s … capped at 2 minutes. */
    static Duration retry(int attempt) {
        return of(Duration.ofSeconds(2), 2, Duration.ofMinutes(2), attempt - 1);
    }
}

package dev.kiln.provider;

import java.time.Duration;

/**
 * How often a provider may be polled: the first poll comes near the job's ETA (never sooner than
 * {@code minInterval}), later ones back off by {@code growth} up to {@code maxInterval}.
 */
public record PollPolicy(Duration minInterval, Duration maxInterval, double growth) {
    public static final PollPolicy DEFAULT = new PollPolicy(Duration.ofSeconds(2), Duration.ofSeconds(30), 1.5);
}

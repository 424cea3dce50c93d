package dev.kiln.config;

import java.time.Duration;
import java.util.Optional;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * How long finished things are kept (housekeeping removes them after that); {@code 0} keeps them
 * for good. Bound from the environment through application.yml.
 *
 * @param jobs finished jobs, with their history, client-webhook deliveries and outputs
 *     ({@code KILN_RETAIN_JOBS}; default: kept)
 * @param history the history of finished jobs, which may go before the jobs themselves
 *     ({@code KILN_RETAIN_HISTORY}; default: as long as the job)
 * @param idempotency stored answers of {@code Idempotency-Key} requests ({@code KILN_RETAIN_IDEMPOTENCY}; 24h)
 * @param webhookIds ids of provider webhooks already received, so a replay is ignored
 *     ({@code KILN_RETAIN_WEBHOOK_IDS}; 24h — longer than any provider retries)
 * @param deliveries delivered or abandoned notifications to client webhooks ({@code KILN_RETAIN_DELIVERIES}; 7d)
 * @param interval how often housekeeping runs ({@code KILN_RETENTION_INTERVAL}; 1h)
 */
@ConfigurationProperties("kiln.retention")
public record RetentionProperties(Duration jobs, Duration history, Duration idempotency, Duration webhookIds,
                                  Duration deliveries, Duration interval) {

    public RetentionProperties {
        if (jobs == null) jobs = Duration.ZERO;
        if (history == null) history = Duration.ZERO;
        if (idempotency == null) idempotency = Duration.ofHours(24);
        if (webhookIds == null || webhookIds.isZero()) webhookIds = Duration.ofHours(24);
        if (deliveries == null) deliveries = Duration.ofDays(7);
        if (interval == null || interval.isZero()) interval = Duration.ofHours(1);
    }

    public static RetentionProperties defaults() {
        return new RetentionProperties(null, null, null, null, null, null);
    }

    /** The retention, or empty when things of this kind are kept for good. */
    public static Optional<Duration> limit(Duration d) {
        return d.isZero() ? Optional.empty() : Optional.of(d);
    }
}

package dev.kiln.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Limits that keep hostile or careless clients from taking the server's memory (see
 * docs/SECURITY.md, "Hostile input"); bound from the environment through application.yml.
 *
 * @param webhookMaxBody largest provider webhook body ({@code KILN_WEBHOOK_MAX_BODY}); providers send a few KB
 * @param eventSubscribers most {@code /v1/events} streams open at once ({@code KILN_EVENTS_MAX_SUBSCRIBERS})
 * @param eventIdleTimeout a stream that carried no event for this long is closed; clients reconnect
 *     ({@code KILN_EVENTS_IDLE_TIMEOUT})
 * @param eventBuffer events queued for one stream; a reader that falls this far behind is dropped
 *     ({@code KILN_EVENTS_BUFFER})
 */
@ConfigurationProperties("kiln.limits")
public record LimitsProperties(DataSize webhookMaxBody, int eventSubscribers, Duration eventIdleTimeout, int eventBuffer) {

    public LimitsProperties {
        if (webhookMaxBody == null) webhookMaxBody = DataSize.ofMegabytes(1);
        if (webhookMaxBody.toBytes() <= 0) throw new IllegalArgumentException("KILN_WEBHOOK_MAX_BODY must be positive");
        if (eventSubscribers <= 0) eventSubscribers = 100;
        if (eventIdleTimeout == null || eventIdleTimeout.isZero()) eventIdleTimeout = Duration.ofMinutes(15);
        if (eventBuffer <= 0) eventBuffer = 256;
    }

    /** The defaults, for code constructed outside Spring (tests). */
    public static LimitsProperties defaults() {
        return new LimitsProperties(null, 0, null, 0);
    }
}

package dev.kiln.provider.fal;

import dev.kiln.provider.PollPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link FalProvider}.
 *
 * @param providerId the id the adapter answers to ({@code fal})
 * @param submitTimeout how long a queue submit may take before it is ambiguous
 * @param pollTimeout timeout of status, result, cancel and JWKS calls
 * @param downloadTimeout timeout until an output download starts answering
 * @param imagePolls poll pacing for image jobs
 * @param videoPolls poll pacing for video jobs
 * @param sandboxPolls poll pacing for sandbox accounts (local emulator)
 * @param webhookTolerance how far a webhook's timestamp may be from its arrival (fal: 5 min)
 * @param jwksMaxAge how long fetched webhook keys are trusted (fal: at most 24 h)
 * @param jwksRefreshMinInterval the shortest pause between two key fetches caused by failed verifications
 */
public record FalConfig(
        String providerId, Duration submitTimeout, Duration pollTimeout, Duration downloadTimeout,
        PollPolicy imagePolls, PollPolicy videoPolls, PollPolicy sandboxPolls, Duration webhookTolerance,
        Duration jwksMaxAge, Duration jwksRefreshMinInterval) {

    public FalConfig {
        Objects.requireNonNull(providerId, "providerId");
        for (Duration d : new Duration[] {submitTimeout, pollTimeout, downloadTimeout, webhookTolerance, jwksMaxAge}) {
            if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("durations must be positive");
        }
        if (jwksRefreshMinInterval == null || jwksRefreshMinInterval.isNegative()) throw new IllegalArgumentException("jwksRefreshMinInterval");
        Objects.requireNonNull(imagePolls, "imagePolls");
        Objects.requireNonNull(videoPolls, "videoPolls");
        Objects.requireNonNull(sandboxPolls, "sandboxPolls");
    }

    /** fal's client polls every 0.5–1 s; Kiln starts at 1 s (images) or 3 s (videos), growing 1.5×, at most 10 s / 30 s. */
    public static FalConfig defaults() {
        return new FalConfig("fal", Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofSeconds(60),
                new PollPolicy(Duration.ofSeconds(1), Duration.ofSeconds(10), 1.5),
                new PollPolicy(Duration.ofSeconds(3), Duration.ofSeconds(30), 1.5),
                new PollPolicy(Duration.ofMillis(50), Duration.ofSeconds(2), 1.5),
                Duration.ofSeconds(300), Duration.ofHours(24), Duration.ofSeconds(30));
    }

    public FalConfig withTimeouts(Duration submit, Duration poll) {
        return new FalConfig(providerId, submit, poll, downloadTimeout, imagePolls, videoPolls, sandboxPolls,
                webhookTolerance, jwksMaxAge, jwksRefreshMinInterval);
    }

    public FalConfig withJwksRefreshMinInterval(Duration d) {
        return new FalConfig(providerId, submitTimeout, pollTimeout, downloadTimeout, imagePolls, videoPolls, sandboxPolls,
                webhookTolerance, jwksMaxAge, d);
    }
}

package dev.kiln.provider.wavespeed;

import dev.kiln.provider.PollPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link WaveSpeedProvider}. One class serves two provider ids: {@code wavespeed}
 * (the real service) and {@code sandbox} (the local emulator), which differ only in id and in the
 * accounts they get.
 *
 * @param providerId the id the adapter answers to and reports errors under
 * @param submitTimeout how long a submit may take before it counts as ambiguous
 * @param syncSubmitTimeout the same for {@code enable_sync_mode} submits, which wait for the result
 * @param pollTimeout timeout of result, list, cancel, balance and secret calls
 * @param uploadTimeout timeout of one input image upload
 * @param downloadTimeout timeout until an output download starts answering
 * @param imagePolls poll pacing for image jobs (WaveSpeed asks for at least 2 s)
 * @param videoPolls poll pacing for video jobs (at least 5 s)
 * @param sandboxPolls poll pacing for sandbox accounts, where nothing is billed or throttled
 * @param webhookTolerance how far a webhook's timestamp may be from its arrival
 * @param reconcileSkew how long before Kiln's intent a matching task may have been created (clock skew)
 */
public record WaveSpeedConfig(
        String providerId, Duration submitTimeout, Duration syncSubmitTimeout, Duration pollTimeout,
        Duration uploadTimeout, Duration downloadTimeout, PollPolicy imagePolls, PollPolicy videoPolls,
        PollPolicy sandboxPolls, Duration webhookTolerance, Duration reconcileSkew) {

    public WaveSpeedConfig {
        Objects.requireNonNull(providerId, "providerId");
        for (Duration d : new Duration[] {submitTimeout, syncSubmitTimeout, pollTimeout, uploadTimeout, downloadTimeout,
                webhookTolerance, reconcileSkew}) {
            if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("durations must be positive");
        }
        Objects.requireNonNull(imagePolls, "imagePolls");
        Objects.requireNonNull(videoPolls, "videoPolls");
        Objects.requireNonNull(sandboxPolls, "sandboxPolls");
    }

    /** WaveSpeed's published guidance: polls from 2 s (images) or 5 s (videos), growing 1.5×, at most 30 s. */
    public static WaveSpeedConfig defaults(String providerId) {
        return new WaveSpeedConfig(providerId,
                Duration.ofSeconds(30), Duration.ofSeconds(150), Duration.ofSeconds(15),
                Duration.ofSeconds(60), Duration.ofSeconds(60),
                new PollPolicy(Duration.ofSeconds(2), Duration.ofSeconds(30), 1.5),
                new PollPolicy(Duration.ofSeconds(5), Duration.ofSeconds(30), 1.5),
                new PollPolicy(Duration.ofMillis(50), Duration.ofSeconds(2), 1.5),
                Duration.ofSeconds(300), Duration.ofSeconds(60));
    }

    public WaveSpeedConfig withTimeouts(Duration submit, Duration poll) {
        return new WaveSpeedConfig(providerId, submit, syncSubmitTimeout, poll, uploadTimeout, downloadTimeout,
                imagePolls, videoPolls, sandboxPolls, webhookTolerance, reconcileSkew);
    }
}

package dev.kiln.provider.replicate;

import dev.kiln.provider.PollPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link ReplicateProvider}.
 *
 * @param providerId the id the adapter answers to ({@code replicate})
 * @param submitTimeout how long a create call may take (beyond any {@code Prefer: wait}) before it is ambiguous
 * @param pollTimeout timeout of get, list, cancel, account and secret calls
 * @param downloadTimeout timeout until an output download starts answering
 * @param uploadTimeout timeout of one input file upload ({@code POST /files})
 * @param syncEtaLimit jobs expected to take at most this long are created with {@code Prefer: wait}
 * @param maxSyncWait the longest {@code Prefer: wait=N} sent (Replicate allows 1..60 s)
 * @param dataUriLimit input images up to this size travel as data URIs (Replicate's API reference: 256 KB;
 *     its guides: never 1 MB or more); larger ones as a public URL or through the Files API
 * @param imagePolls poll pacing for image jobs
 * @param videoPolls poll pacing for video jobs
 * @param sandboxPolls poll pacing for sandbox accounts (local emulator)
 * @param webhookTolerance how far a webhook's timestamp may be from its arrival
 * @param reconcileSkew how long before Kiln's intent a matching prediction may have been created (clock skew)
 */
public record ReplicateConfig(
        String providerId, Duration submitTimeout, Duration pollTimeout, Duration downloadTimeout, Duration uploadTimeout,
        Duration syncEtaLimit, Duration maxSyncWait, long dataUriLimit, PollPolicy imagePolls, PollPolicy videoPolls,
        PollPolicy sandboxPolls, Duration webhookTolerance, Duration reconcileSkew) {

    public ReplicateConfig {
        Objects.requireNonNull(providerId, "providerId");
        for (Duration d : new Duration[] {submitTimeout, pollTimeout, downloadTimeout, uploadTimeout, syncEtaLimit, maxSyncWait,
                webhookTolerance, reconcileSkew}) {
            if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("durations must be positive");
        }
        if (maxSyncWait.toSeconds() > 60) throw new IllegalArgumentException("Replicate waits at most 60 s");
        if (dataUriLimit < 0 || dataUriLimit >= 1024 * 1024) throw new IllegalArgumentException("data URIs must stay under 1 MB");
        Objects.requireNonNull(imagePolls, "imagePolls");
        Objects.requireNonNull(videoPolls, "videoPolls");
        Objects.requireNonNull(sandboxPolls, "sandboxPolls");
    }

    /**
     * Replicate's published limits: 3000 GET requests per minute per account, so polls from 1 s
     * (images) or 3 s (videos), growing 1.5×, at most 15 s / 30 s.
     */
    public static ReplicateConfig defaults() {
        return new ReplicateConfig("replicate", Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofSeconds(60),
                Duration.ofSeconds(120), Duration.ofSeconds(10), Duration.ofSeconds(30), 256 * 1024,
                new PollPolicy(Duration.ofSeconds(1), Duration.ofSeconds(15), 1.5),
                new PollPolicy(Duration.ofSeconds(3), Duration.ofSeconds(30), 1.5),
                new PollPolicy(Duration.ofMillis(50), Duration.ofSeconds(2), 1.5),
                Duration.ofSeconds(300), Duration.ofSeconds(60));
    }

    public ReplicateConfig withTimeouts(Duration submit, Duration poll) {
        return new ReplicateConfig(providerId, submit, poll, downloadTimeout, uploadTimeout, syncEtaLimit, maxSyncWait, dataUriLimit,
                imagePolls, videoPolls, sandboxPolls, webhookTolerance, reconcileSkew);
    }

    public ReplicateConfig withSync(Duration etaLimit, Duration maxWait) {
        return new ReplicateConfig(providerId, submitTimeout, pollTimeout, downloadTimeout, uploadTimeout, etaLimit, maxWait, dataUriLimit,
                imagePolls, videoPolls, sandboxPolls, webhookTolerance, reconcileSkew);
    }
}

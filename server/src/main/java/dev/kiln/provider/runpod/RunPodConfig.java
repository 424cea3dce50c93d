package dev.kiln.provider.runpod;

import dev.kiln.provider.PollPolicy;
import java.time.Duration;

/**
 * Settings of a {@link RunPodProvider}.
 *
 * @param submitTimeout how long {@code /run} may take before it counts as ambiguous
 * @param callTimeout timeout of status, cancel and health calls
 * @param downloadTimeout timeout until an S3 output download starts answering
 * @param maxRunBytes the largest {@code /run} body sent (RunPod refuses more than 10 MB, 10,000,000 bytes)
 * @param resultMargin how long past the job's deadline RunPod should keep it ({@code policy.ttl}), for fetching outputs
 * @param imagePolls poll pacing for image jobs
 * @param videoPolls poll pacing for video jobs
 * @param sandboxPolls poll pacing for sandbox accounts
 */
public record RunPodConfig(Duration submitTimeout, Duration callTimeout, Duration downloadTimeout, long maxRunBytes,
                           Duration resultMargin, PollPolicy imagePolls, PollPolicy videoPolls, PollPolicy sandboxPolls) {

    /** RunPod's limits: 10 MB (decimal) per /run; status may be read 2000 times per 10 s, so 1–2 s polls are fine. */
    public static RunPodConfig defaults() {
        return new RunPodConfig(Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofSeconds(120), 10_000_000L,
                Duration.ofMinutes(30),
                new PollPolicy(Duration.ofSeconds(1), Duration.ofSeconds(15), 1.5),
                new PollPolicy(Duration.ofSeconds(3), Duration.ofSeconds(30), 1.5),
                new PollPolicy(Duration.ofMillis(50), Duration.ofSeconds(1), 1.5));
    }
}

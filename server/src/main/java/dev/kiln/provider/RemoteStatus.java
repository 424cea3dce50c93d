package dev.kiln.provider;

import java.time.Duration;
import java.util.List;

/** The state of a remote job as the provider reports it. */
public sealed interface RemoteStatus {

    /** Queued or running at the provider. */
    record Pending(double progress, Integer queuePosition) implements RemoteStatus {
        public static final Pending UNKNOWN = new Pending(0, null);
    }

    /**
     * Finished with outputs (which Kiln downloads before the job succeeds).
     *
     * @param runTime how long the provider says the work itself took (Replicate's
     *     {@code metrics.predict_time}), or null when it does not say
     */
    record Succeeded(List<OutputRef> outputs, Duration runTime) implements RemoteStatus {
        public Succeeded {
            outputs = List.copyOf(outputs);
        }

        public Succeeded(List<OutputRef> outputs) {
            this(outputs, null);
        }
    }

    /**
     * Finished without outputs.
     *
     * @param code a stable code (the provider's, prefixed, or Kiln's)
     * @param retryable true when a new attempt may well succeed (provider-side fault)
     */
    record Failed(String code, String message, boolean retryable) implements RemoteStatus {}

    /** Stopped at the provider (by Kiln or anyone else). */
    record Canceled(String message) implements RemoteStatus {}
}

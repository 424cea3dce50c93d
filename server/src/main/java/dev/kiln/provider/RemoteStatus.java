package dev.kiln.provider;

import java.util.List;

/** The state of a remote job as the provider reports it. */
public sealed interface RemoteStatus {

    /** Queued or running at the provider. */
    record Pending(double progress, Integer queuePosition) implements RemoteStatus {
        public static final Pending UNKNOWN = new Pending(0, null);
    }

    /** Finished with outputs (which Kiln downloads before the job succeeds). */
    record Succeeded(List<OutputRef> outputs) implements RemoteStatus {
        public Succeeded {
            outputs = List.copyOf(outputs);
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

package dev.kiln.job;

import java.math.BigDecimal;
import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * One row of the {@code jobs} table: a generation and its whole schedule.
 *
 * @param params the resolved parameters, with the real seed
 * @param inputs input asset ids by image input name, e.g. {@code {"reference":["asset_…"]}}
 * @param remote what the provider adapter asked Kiln to remember about the remote job
 * @param nextAt when the engine should next look at the job; null when nothing is left to do
 * @param webhookTokenDigest the SHA-256 of the job's webhook token ({@link WebhookTokens}); never the token
 * @param deleted deleted by its owner; hidden, and purged once nothing is left to do
 * @param origin the API that created the job: {@code v1}, or a seed façade's id ({@code 000}…)
 * @param lane the lane it waits in ({@code dev.kiln.lane.Lanes}): set at submission, and again at
 *     start-up for an unfinished job whose model the configuration moved to another lane
 */
public record Job(
        String id, String runId, Integer runIndex, String ownerId, String model, String mode,
        String provider, int bindingIndex, String accountId,
        JobStatus status, Phase phase, int priority,
        String prompt, String negativePrompt, JsonNode params, JsonNode inputs, JsonNode gridCell,
        int attempt, int maxAttempts, SubmitState submitState, Instant submittedAt,
        String remoteId, JsonNode remote, double progress, Integer queuePosition,
        String errorCode, String errorMessage, BigDecimal cost, Integer etaSeconds,
        String webhookTokenDigest, JsonNode callback, int polls,
        Instant nextAt, Instant deadlineAt, String leaseOwner, Instant leaseUntil, int version,
        Instant createdAt, Instant startedAt, Instant finishedAt, Instant updatedAt, boolean deleted, String origin,
        String lane) {

    /** The key of {@link #remote} under which the provider's own run time is kept. */
    public static final String PROVIDER_RUN_MS = "provider_run_ms";

    /**
     * How long the provider says the work itself took, in milliseconds (Replicate's
     * {@code metrics.predict_time}), once the job succeeded; null when the provider does not say.
     */
    public Long providerRunMillis() {
        JsonNode ms = remote == null ? null : remote.get(PROVIDER_RUN_MS);
        return ms != null && ms.canConvertToLong() ? ms.asLong() : null;
    }

    public boolean holdsSlot() {
        return status == JobStatus.RUNNING && phase.holdsSlot() && accountId != null;
    }
}

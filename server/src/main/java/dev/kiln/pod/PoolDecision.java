package dev.kiln.pod;

import java.time.Instant;

/**
 * One decision of the pool, with what it saw ({@code pool_decisions}).
 *
 * @param action {@code scale_up}, {@code resume}, {@code ready}, {@code replace}, {@code stop},
 *     {@code terminate}, {@code hold} (wanted a pod but the maximum or the spending cap forbade it),
 *     {@code error} (RunPod refused or failed)
 */
public record PoolDecision(long id, Instant at, String action, String podId, String reason, int queued, int oldestWaitSeconds, int pods,
                           double spendPerHr) {}

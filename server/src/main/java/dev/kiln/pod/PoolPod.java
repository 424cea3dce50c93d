package dev.kiln.pod;

import java.time.Instant;

/**
 * One pod of the pool as Kiln tracks it ({@code pool_pods}).
 *
 * @param state {@code starting} (created or started, its ComfyUI not checked yet), {@code ready}
 *     (a ComfyUI account that takes jobs), {@code stopped} (idle, stopped at RunPod: costs nothing but
 *     its volume), {@code terminated} (gone)
 * @param accountId the ComfyUI account it became, once reachable
 * @param runningSeconds seconds it ran (started to stopped or terminated), summed over its starts
 * @param idleSeconds of those, seconds it ran with no work before it was stopped
 */
public record PoolPod(String id, String name, String state, String gpuType, double costPerHr, String accountId, String baseUrl,
                      Instant createdAt, Instant startedAt, Instant readyAt, Instant lastBusyAt, Instant stateChangedAt, int misses,
                      double runningSeconds, double idleSeconds) {
    public static final String STARTING = "starting";
    public static final String READY = "ready";
    public static final String STOPPED = "stopped";
    public static final String TERMINATED = "terminated";

    /** Whether it costs by the hour now (RunPod bills running pods). */
    public boolean running() {
        return STARTING.equals(state) || READY.equals(state);
    }
}

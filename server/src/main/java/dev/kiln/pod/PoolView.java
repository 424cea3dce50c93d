package dev.kiln.pod;

import java.time.Duration;

/**
 * What the pool sees in one round: the ComfyUI lane's queue and its own pods.
 *
 * @param queued ComfyUI jobs waiting for an account
 * @param oldestWait how long the oldest of them has waited
 * @param pods pods running or starting
 * @param spendPerHr what those cost per hour together
 */
record PoolView(int queued, Duration oldestWait, int pods, double spendPerHr) {}

package dev.kiln.pod;

import dev.kiln.account.Account;
import dev.kiln.provider.ProviderException;
import java.time.Duration;
import java.time.Instant;
import org.springframework.stereotype.Component;

/**
 * Stops a ready pod that has had no work for {@code KILN_PODS_IDLE_STOP_AFTER} while no ComfyUI
 * job waits: its account leaves routing first, then RunPod stops it (a stopped pod costs nothing
 * by the hour). The decision says what its idle time cost.
 */
@Component
class StopIdleTask extends PodTask {
    StopIdleTask(PoolOps ops) {
        super(ops);
    }

    @Override
    int order() {
        return 2;
    }

    @Override
    void runTask() {
        Instant now = ops.clock.instant();
        if (ops.lane.queue(now).jobs() > 0) return;
        for (PoolPod p : ops.store.active()) {
            if (!PoolPod.READY.equals(p.state())) continue;
            Account a = ops.account(p);
            if (a != null && a.inFlight() > 0) continue;
            Instant last = p.lastBusyAt() != null ? p.lastBusyAt() : p.readyAt();
            if (a != null && a.lastUsedAt() != null && (last == null || a.lastUsedAt().isAfter(last))) last = a.lastUsedAt();
            if (last == null) last = p.startedAt();
            Duration idle = Duration.between(last, now);
            if (idle.compareTo(ops.props.idleStopAfter()) < 0) continue;
            ops.disableAccount(p, "stopped: idle");
            try {
                ops.runpod.stopPod(p.id());
            } catch (ProviderException.NotFound e) {
                ops.replace(p, "RunPod no longer knows it");
                continue;
            } catch (ProviderException e) {
                ops.decide("error", p.id(), "stopping the idle pod failed (" + e.getMessage() + "); tried again next round");
                continue;
            }
            double idleSeconds = idle.toMillis() / 1000.0;
            ops.store.halt(p, PoolPod.STOPPED, idleSeconds, now);
            ops.decide("stop", p.id(), "no work for " + PoolOps.seconds(idle) + " (> " + PoolOps.seconds(ops.props.idleStopAfter())
                    + ", KILN_PODS_IDLE_STOP_AFTER) and no ComfyUI job waiting; its idle time cost "
                    + PoolOps.cents(idleSeconds / 3600 * p.costPerHr()));
        }
    }
}

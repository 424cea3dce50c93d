package dev.kiln.pod;

import java.time.Duration;
import java.time.Instant;
import org.springframework.stereotype.Component;

/** Terminates a pod that has stayed stopped for {@code KILN_PODS_TERMINATE_AFTER} (its disk is then gone too). */
@Component
class TerminateStoppedTask extends PodTask {
    TerminateStoppedTask(PoolOps ops) {
        super(ops);
    }

    @Override
    int order() {
        return 3;
    }

    @Override
    void runTask() {
        Instant now = ops.clock.instant();
        for (PoolPod p : ops.store.active()) {
            if (!PoolPod.STOPPED.equals(p.state())) continue;
            Duration stopped = Duration.between(p.stateChangedAt(), now);
            if (stopped.compareTo(ops.props.terminateAfter()) < 0) continue;
            if (!ops.terminateQuietly(p.id())) continue;
            ops.store.halt(p, PoolPod.TERMINATED, 0, now);
            ops.decide("terminate", p.id(), "stopped for " + PoolOps.seconds(stopped) + " (> " + PoolOps.seconds(ops.props.terminateAfter())
                    + ", KILN_PODS_TERMINATE_AFTER)");
        }
    }
}

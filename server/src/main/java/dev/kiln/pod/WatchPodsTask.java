package dev.kiln.pod;

import dev.kiln.account.Account;
import dev.kiln.provider.ProviderException;
import java.time.Duration;
import java.time.Instant;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Health of the pool's pods. A starting pod becomes a ComfyUI account once RunPod shows where it
 * is and its ComfyUI passes the account health check (which also reads its {@code /object_info},
 * so jobs go only to pods that have their workflow's models); one that does not within
 * {@code KILN_PODS_READY_TIMEOUT} is replaced. A ready pod that RunPod no longer runs, or whose
 * ComfyUI fails {@code KILN_PODS_MISSES} checks in a row, died: it is replaced and its jobs run again
 * on another pod.
 */
@Component
class WatchPodsTask extends PodTask {
    WatchPodsTask(PoolOps ops) {
        super(ops);
    }

    @Override
    int order() {
        return 0;
    }

    @Override
    void runTask() {
        for (PoolPod p : ops.store.active()) {
            if (PoolPod.STARTING.equals(p.state())) starting(p);
            else if (PoolPod.READY.equals(p.state())) ready(p);
        }
    }

    private JsonNode fetch(PoolPod p) {
        try {
            return ops.runpod.getPod(p.id());
        } catch (ProviderException.NotFound e) {
            return null;
        }
    }

    private void starting(PoolPod p) {
        Instant now = ops.clock.instant();
        JsonNode pod = fetch(p);
        if (pod == null || !"RUNNING".equals(pod.path("desiredStatus").asString())) {
            ops.replace(p, pod == null ? "RunPod no longer knows it" : "RunPod shows it " + pod.path("desiredStatus").asString()
                    + " while starting (" + pod.path("lastStatusChange").asString("") + ")");
            return;
        }
        String url = ops.comfyUrl(pod);
        Account a = url != null && ops.answers(url) ? ops.becomeAccount(p, url, pod.path("publicIp").asString(null)) : null;
        if (a != null) {
            ops.store.ready(p.id(), a.id(), url, now);
            ops.decide("ready", p.id(), "ComfyUI answered and passed its health check " + PoolOps.seconds(Duration.between(p.startedAt(), now))
                    + " after the pod started, on " + p.gpuType() + " at " + PoolOps.money(p.costPerHr()) + "/h; it takes jobs now");
            return;
        }
        if (Duration.between(p.startedAt(), now).compareTo(ops.props.readyTimeout()) > 0) {
            ops.replace(p, "its ComfyUI did not answer within " + ops.props.readyTimeout().toSeconds() + "s of starting (KILN_PODS_READY_TIMEOUT)");
        }
    }

    private void ready(PoolPod p) {
        Instant now = ops.clock.instant();
        JsonNode pod;
        try {
            pod = fetch(p);
        } catch (ProviderException e) {
            // RunPod itself is unreachable: that says nothing of the pod; its ComfyUI decides.
            pod = null;
            if (ops.answers(p.baseUrl())) {
                busy(p, now);
                return;
            }
            miss(p, "its ComfyUI does not answer and RunPod cannot be asked (" + e.getMessage() + ")");
            return;
        }
        if (pod == null || !"RUNNING".equals(pod.path("desiredStatus").asString())) {
            ops.replace(p, pod == null ? "RunPod no longer knows it"
                    : "RunPod shows it " + pod.path("desiredStatus").asString() + " (" + pod.path("lastStatusChange").asString("") + ")");
            return;
        }
        if (ops.answers(p.baseUrl())) {
            busy(p, now);
        } else {
            miss(p, "its ComfyUI stopped answering at " + p.baseUrl());
        }
    }

    private void busy(PoolPod p, Instant now) {
        Account a = ops.account(p);
        if (a != null && a.inFlight() > 0) ops.store.busy(p.id(), now);
        else if (p.misses() > 0) ops.store.misses(p.id(), 0);
    }

    private void miss(PoolPod p, String why) {
        int misses = p.misses() + 1;
        if (misses >= ops.props.misses()) {
            ops.replace(p, why + "; " + misses + " checks in a row");
        } else {
            ops.store.misses(p.id(), misses);
        }
    }
}

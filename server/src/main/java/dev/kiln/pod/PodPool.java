package dev.kiln.pod;

import dev.kiln.account.AccountPool;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The pod pool (README, "Pod pool"): Kiln's own ComfyUI backends on RunPod pods, which become
 * ComfyUI accounts when ready, so the engine routes jobs to them as to any ComfyUI (least loaded,
 * only those whose {@code /object_info} has the workflow's models). Every {@code KILN_PODS_INTERVAL}
 * it runs its tasks in order — {@link WatchPodsTask} (ready / replace), {@link ScaleUpTask},
 * {@link StopIdleTask}, {@link TerminateStoppedTask} — each decision written to
 * {@code pool_decisions} with its reason ({@code GET /v1/admin/pods}) and counted in the metrics.
 * Run it on one instance ({@code KILN_PODS=on} there only): two pools would each add pods.
 */
@Component
public class PodPool {
    private static final Logger log = LoggerFactory.getLogger(PodPool.class);
    private final PodProperties props;
    private final PodEndpoint endpoint;
    private final List<PodTask> tasks;
    private final PoolOps ops;
    private final PoolMetrics metrics;
    private final AccountPool accounts;
    private volatile boolean running;
    private Thread loop;

    PodPool(PodProperties props, PodEndpoint endpoint, List<PodTask> tasks, PoolOps ops, PoolMetrics metrics, AccountPool accounts) {
        this.props = props;
        this.endpoint = endpoint;
        this.tasks = tasks.stream().sorted(Comparator.comparingInt(PodTask::order)).toList();
        this.ops = ops;
        this.metrics = metrics;
        this.accounts = accounts;
        // ComfyUI jobs are accepted while no pod runs yet: they are what makes the pool add one.
        if (props.enabled()) accounts.elastic(ComfyLane.PROVIDER);
    }

    @EventListener(ApplicationReadyEvent.class)
    void start() {
        if (!props.enabled()) return;
        if (!endpoint.current().configured()) {
            log.warn("pod pool is on (KILN_PODS) but no RunPod API key is configured (RUNPOD_API_KEY): it will add no pods");
        }
        running = true;
        loop = Thread.ofVirtual().name("kiln-pod-pool").start(this::loop);
        log.info("pod pool on: {}", props);
    }

    @PreDestroy
    void stop() {
        running = false;
        if (loop != null) loop.interrupt();
    }

    /** One round of every task, now (tests and the loop). */
    public synchronized void runOnce() {
        for (PodTask t : tasks) t.run();
        try {
            metrics.observe(ops.store.active(), ops.view());
        } catch (RuntimeException e) {
            log.debug("pod pool metrics: {}", e.toString());
        }
    }

    private void loop() {
        while (running) {
            try {
                runOnce();
                Thread.sleep(props.interval());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("pod pool round failed: {}", e.toString());
            }
        }
    }

    /** The pool as the admin API shows it. */
    public record Status(boolean enabled, boolean sandbox, int max, double maxSpendPerHour, Duration scaleUpAfter, int jobsPerPod,
                         Duration idleStopAfter, Duration terminateAfter, List<String> gpuTypes, int queuedJobs, long oldestWaitSeconds,
                         int runningPods, double spendPerHour, double idleCost, List<PoolPod> pods, List<PoolDecision> decisions) {}

    public Status status(int decisions) {
        PoolView v = ops.view();
        List<PoolPod> pods = ops.store.all(200);
        double idleCost = pods.stream().mapToDouble(p -> p.idleSeconds() / 3600 * p.costPerHr()).sum();
        return new Status(props.enabled(), endpoint.sandbox(), props.max(), props.maxSpendPerHour(), props.scaleUpAfter(), props.jobsPerPod(),
                props.idleStopAfter(), props.terminateAfter(), props.gpuTypes(), v.queued(), v.oldestWait().toSeconds(), v.pods(),
                v.spendPerHr(), idleCost, pods, ops.store.decisions(Math.max(1, Math.min(1000, decisions))));
    }
}

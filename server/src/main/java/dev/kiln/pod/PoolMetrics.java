package dev.kiln.pod;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.stereotype.Component;

/**
 * The pool in Prometheus ({@code /metrics}): {@code kiln_pods{state}}, {@code kiln_pods_spend_per_hour},
 * {@code kiln_pods_queued_jobs}, {@code kiln_pods_oldest_wait_seconds} and
 * {@code kiln_pod_decisions_total{action}}.
 */
@Component
class PoolMetrics {
    private final MeterRegistry registry;
    private final Map<String, AtomicLong> byState = new ConcurrentHashMap<>();
    private final AtomicReference<Double> spend = new AtomicReference<>(0.0);
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong oldestWait = new AtomicLong();

    PoolMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (String s : List.of(PoolPod.STARTING, PoolPod.READY, PoolPod.STOPPED)) {
            AtomicLong v = new AtomicLong();
            byState.put(s, v);
            Gauge.builder("kiln_pods", v, AtomicLong::get).description("The pod pool's pods by state").tag("state", s).register(registry);
        }
        Gauge.builder("kiln_pods_spend_per_hour", spend, AtomicReference::get).description("Dollars per hour the running and starting pods cost")
                .register(registry);
        Gauge.builder("kiln_pods_queued_jobs", queued, AtomicLong::get).description("ComfyUI jobs waiting, as the pool last saw").register(registry);
        Gauge.builder("kiln_pods_oldest_wait_seconds", oldestWait, AtomicLong::get).description("How long the oldest of them has waited")
                .register(registry);
    }

    void decided(String action) {
        Counter.builder("kiln_pod_decisions_total").description("Decisions of the pod pool").tag("action", action).register(registry).increment();
    }

    void observe(List<PoolPod> active, PoolView view) {
        byState.forEach((s, v) -> v.set(active.stream().filter(p -> p.state().equals(s)).count()));
        spend.set(view.spendPerHr());
        queued.set(view.queued());
        oldestWait.set(view.oldestWait().toSeconds());
    }
}

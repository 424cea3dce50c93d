package dev.kiln.engine;

import dev.kiln.account.Account;
import dev.kiln.account.AccountStore;
import dev.kiln.job.JobEvent;
import dev.kiln.job.JobStatus;
import dev.kiln.job.JobStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/** Prometheus metrics of the engine (served at {@code /metrics}). */
@Component
class EngineMetrics {
    private final MeterRegistry registry;
    private final JobStore jobs;
    private final AccountStore accounts;
    private final Map<String, AtomicLong> byStatus = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> accountGauges = new ConcurrentHashMap<>();

    EngineMetrics(MeterRegistry registry, JobStore jobs, AccountStore accounts, Engine engine) {
        this.registry = registry;
        this.jobs = jobs;
        this.accounts = accounts;
        for (JobStatus s : JobStatus.values()) {
            AtomicLong v = new AtomicLong();
            byStatus.put(s.wire(), v);
            Gauge.builder("kiln_jobs", v, AtomicLong::get).description("Jobs by status").tag("status", s.wire()).register(registry);
        }
        Gauge.builder("kiln_engine_driving", engine, Engine::driving).description("Jobs this process is driving now").register(registry);
    }

    @TransactionalEventListener
    void on(JobEvent e) {
        if (!e.statusChanged()) return;
        String status = e.job().status().wire();
        Counter.builder("kiln_job_transitions_total").description("Job status changes").tag("status", status)
                .tag("model", e.job().model()).register(registry).increment();
        if (e.job().status().terminal() && e.job().finishedAt() != null) {
            Timer.builder("kiln_job_duration_seconds").description("From acceptance to a terminal state")
                    .tag("status", status).tag("model", e.job().model()).register(registry)
                    .record(Duration.between(e.job().createdAt(), e.job().finishedAt()));
        }
    }

    @Scheduled(fixedDelay = 5000, initialDelay = 1000)
    void refresh() {
        Map<String, Long> counts = jobs.countByStatus();
        byStatus.forEach((s, v) -> v.set(counts.getOrDefault(s, 0L)));
        List<Account> list = accounts.list();
        for (Account a : list) {
            gauge("kiln_account_in_flight", a).set(a.inFlight());
            gauge("kiln_account_ready", a).set(a.state() == dev.kiln.account.AccountState.READY ? 1 : 0);
        }
    }

    private AtomicLong gauge(String name, Account a) {
        return accountGauges.computeIfAbsent(name + "/" + a.id(), k -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder(name, v, AtomicLong::get).tag("provider", a.provider()).tag("account", a.label()).register(registry);
            return v;
        });
    }
}

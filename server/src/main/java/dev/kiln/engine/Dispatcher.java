package dev.kiln.engine;

import dev.kiln.account.Account;
import dev.kiln.account.AccountPool;
import dev.kiln.account.AccountStore;
import dev.kiln.account.Eligibility;
import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.config.KilnProperties;
import dev.kiln.job.Job;
import dev.kiln.job.JobChange;
import dev.kiln.job.JobStateMachine;
import dev.kiln.job.JobStatus;
import dev.kiln.job.JobStore;
import dev.kiln.job.Phase;
import dev.kiln.job.SubmitState;
import dev.kiln.lane.Lanes;
import dev.kiln.support.Json;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Moves queued jobs to running: in one short transaction it locks due queued jobs in fair order
 * (inside each lane users take turns, then priority, then age: {@code JobStore#lockDispatchable},
 * {@code FOR UPDATE SKIP LOCKED}), leaves queued the jobs of users at their cap of running jobs
 * ({@code KILN_USER_MAX_RUNNING}), takes a concurrency slot and a rate token of the least loaded
 * ready account of each job's binding, and records the intent to submit. The provider is called
 * after the commit, by a {@link JobRunner}.
 */
@Component
class Dispatcher {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    static final int BATCH = 128;

    private final JobStore store;
    private final JobStateMachine machine;
    private final AccountStore accounts;
    private final AccountPool pool;
    private final Catalog catalog;
    private final KilnProperties props;
    private final Clock clock;
    private final Instance instance;
    private final TransactionTemplate tx;
    private final Eligibility eligibility;
    private final Lanes lanes;

    Dispatcher(JobStore store, JobStateMachine machine, AccountStore accounts, AccountPool pool, Catalog catalog,
               KilnProperties props, Clock clock, Instance instance, TransactionTemplate tx, Eligibility eligibility, Lanes lanes) {
        this.store = store;
        this.machine = machine;
        this.accounts = accounts;
        this.pool = pool;
        this.catalog = catalog;
        this.props = props;
        this.clock = clock;
        this.instance = instance;
        this.tx = tx;
        this.eligibility = eligibility;
        this.lanes = lanes;
    }

    /** The result of one dispatch round: jobs to drive, and when it is worth trying again. */
    record Round(List<Job> dispatched, boolean full, Instant retryAt) {}

    Round dispatch(int capacity) {
        if (capacity <= 0) return new Round(List.of(), false, null);
        int limit = Math.min(capacity, BATCH);
        Instant[] retryAt = {null};
        List<Job> out = new ArrayList<>();
        tx.executeWithoutResult(s -> {
            Instant now = clock.instant();
            int cap = lanes.userMaxRunning();
            List<Job> jobs = store.lockDispatchable(now, limit, cap);
            if (jobs.isEmpty()) return;
            // The query left out users already at their cap; this counts what the round adds.
            Map<String, Integer> running = cap > 0
                    ? new java.util.HashMap<>(store.runningByOwner(jobs.stream().map(Job::ownerId).collect(java.util.stream.Collectors.toSet())))
                    : Map.of();
            AccountPool.Cycle cycle = pool.cycle();
            Set<String> busyProviders = new HashSet<>();
            for (Job j : jobs) {
                if (cap > 0 && running.getOrDefault(j.ownerId(), 0) >= cap) continue; // stays queued; never fails for it
                Model m = catalog.find(j.model()).orElse(null);
                if (m == null) {
                    machine.apply(j, JobChange.to(JobStatus.FAILED, Phase.DONE, "model removed")
                            .error("model_unavailable", "model " + j.model() + " is no longer in the catalogue"));
                    continue;
                }
                boolean[] busy = {false};
                Placement p = place(j, m, cycle, busyProviders, busy);
                if (p == null) {
                    if (!busy[0]) failIfNoAccountCanRun(j, m, cycle);
                    continue;
                }
                if (!accounts.tryAcquireSlot(p.account.id(), now)) {
                    // Another instance filled it since the cycle read the table: no more of this round for it.
                    cycle.unchoose(p.account);
                    cycle.full(p.account);
                    busyProviders.add(p.provider);
                    continue;
                }
                Instant until = now.plus(props.lease());
                if (cap > 0) running.merge(j.ownerId(), 1, Integer::sum);
                out.add(machine.apply(j, JobChange.to(JobStatus.RUNNING, Phase.SUBMIT,
                                "dispatched to " + p.provider + " (" + p.account.label() + ")")
                        .account(p.provider, p.binding, p.account.id()).attempt(j.attempt() + 1)
                        .submitState(SubmitState.INTENT).submittedAt(now).queuePosition(null)
                        .nextAt(until).lease(instance.id(), until).slotAcquired()));
            }
            if (retryAt[0] == null && !busyProviders.isEmpty()) retryAt[0] = now.plusSeconds(1);
        });
        return new Round(out, out.size() == limit, retryAt[0]);
    }

    private record Placement(String provider, int binding, Account account) {}

    /**
     * The first binding (from the job's current one) whose provider has a ready account with room
     * that can run the job ({@link Eligibility}: e.g. a ComfyUI that has the workflow's models and nodes).
     */
    private Placement place(Job j, Model m, AccountPool.Cycle cycle, Set<String> busyProviders, boolean[] busy) {
        Map<String, Object> values = values(j);
        for (int b = j.bindingIndex(); b < m.bindings().size(); b++) {
            String provider = m.bindings().get(b).provider();
            // No early skip of a provider found busy for an earlier job: that job may have needed
            // other accounts of it (another ComfyUI's models) than this one does.
            AccountPool.Choice c = cycle.choose(provider, eligibility.fits(Eligibility.work(m, m.bindings().get(b), j.mode(), values)));
            switch (c.outcome()) {
                case CHOSEN -> {
                    return new Placement(provider, b, c.account());
                }
                case BUSY -> {
                    // Ready accounts that can run it exist but are full or rate-limited: wait for them.
                    busyProviders.add(provider);
                    busy[0] = true;
                    return null;
                }
                case NONE_READY -> {
                    // Try the next binding; if none can serve, the job waits for an account to become ready.
                }
            }
        }
        log.debug("job {}: no ready account for any binding of {}", j.id(), m.id());
        return null;
    }

    /**
     * A job that waits for an account none of which can ever run it (each lacks a model file or a
     * node class its work needs, as their health checks found) fails now, naming what is missing,
     * rather than at its deadline. It got in while that was not known yet (an account not checked).
     */
    private void failIfNoAccountCanRun(Job j, Model m, AccountPool.Cycle cycle) {
        List<Eligibility.Unfit> why = eligibility.unrunnable(m, j.bindingIndex(), j.mode(), values(j), cycle);
        if (why.isEmpty()) return;
        StringBuilder sb = new StringBuilder("no account can run this job:");
        why.stream().limit(10).forEach(u -> sb.append(' ').append(u.account().provider()).append(" '").append(u.account().label())
                .append("': ").append(u.shortfall().path().isEmpty() ? "" : "workflow " + u.shortfall().path() + ": ")
                .append(u.shortfall().message()).append(';'));
        if (why.size() > 10) sb.append(" and ").append(why.size() - 10).append(" more");
        machine.apply(j, JobChange.to(JobStatus.FAILED, Phase.DONE, "no account can run it").error("no_capable_account", sb.toString()));
    }

    /** What the job's templates see, as {@link JobRunner} gives them (its id aside, which no account depends on). */
    private static Map<String, Object> values(Job j) {
        Map<String, Object> values = new LinkedHashMap<>();
        if (j.params() != null) j.params().properties().forEach(e -> values.put(e.getKey(), Json.MAPPER.convertValue(e.getValue(), Object.class)));
        values.put("prompt", j.prompt());
        values.put("negative_prompt", j.negativePrompt());
        values.put("mode", j.mode());
        values.put("model", j.model());
        values.put("job_id", j.id());
        return values;
    }

    /** How long the dispatcher may sleep when nothing is due. */
    Duration idle() {
        Instant now = clock.instant();
        return store.earliestDue(true).filter(t -> t.isAfter(now)).map(t -> Duration.between(now, t))
                .filter(d -> d.compareTo(Duration.ofSeconds(1)) < 0).orElse(Duration.ofSeconds(1));
    }
}

package dev.kiln.job;

import dev.kiln.account.AccountStore;
import dev.kiln.credit.Ledger;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The one place where a job changes (docs/ARCHITECTURE.md, the life of a job). Every path — dispatcher, tracker,
 * webhook, cancel, deadline — calls {@link #apply}, which checks the transition table, writes the
 * row under its optimistic lock, keeps the account's concurrency slot count in step, appends the
 * history, settles the job's credits when it ends, queues the client's webhook and publishes a
 * {@link JobEvent} after commit.
 */
@Service
public class JobStateMachine {
    private final JobStore store;
    private final AccountStore accounts;
    private final Outbox outbox;
    private final Ledger ledger;
    private final ApplicationEventPublisher events;
    private final Clock clock;

    JobStateMachine(JobStore store, AccountStore accounts, Outbox outbox, Ledger ledger, ApplicationEventPublisher events, Clock clock) {
        this.store = store;
        this.accounts = accounts;
        this.outbox = outbox;
        this.ledger = ledger;
        this.events = events;
        this.clock = clock;
    }

    /**
     * Applies one change to the job as it was read.
     *
     * @return the job as it is now
     * @throws ConcurrentJobChange if the job changed since {@code job} was read
     * @throws JobTransitions.IllegalTransition if the status change is not allowed
     */
    @Transactional
    public Job apply(Job job, JobChange change) {
        Instant now = clock.instant();
        JobStatus to = change.status() != null ? change.status() : job.status();
        Phase phase = change.phase() != null ? change.phase() : job.phase();
        boolean statusChanged = to != job.status();
        if (statusChanged && !JobTransitions.allowed(job.status(), to)) {
            throw new JobTransitions.IllegalTransition(job.id(), job.status(), to);
        }
        Map<String, Object> cols = new LinkedHashMap<>(change.columns);
        if (statusChanged) cols.put("status", to.wire());
        if (phase != job.phase()) cols.put("phase", phase.wire());
        if (to == JobStatus.RUNNING && job.startedAt() == null) cols.putIfAbsent("started_at", now);
        // The lane's wait is the age of its oldest queued job, counted from when it (last) joined the queue.
        if (statusChanged && to == JobStatus.QUEUED) cols.put("queued_at", now);
        if (statusChanged && to.terminal()) {
            cols.put("finished_at", now);
            if (to == JobStatus.SUCCEEDED) cols.put("progress", 1.0);
            cols.put("queue_position", null);
        }
        if (phase == Phase.DONE) {
            cols.put("next_at", null);
            cols.put("lease_owner", null);
            cols.put("lease_until", null);
        } else if (cols.containsKey("next_at") && cols.get("next_at") instanceof Instant at && at.isAfter(job.deadlineAt())
                && !to.terminal() && phase != Phase.FETCH) {
            // Nothing may be scheduled past the deadline: the job must be looked at by then.
            cols.put("next_at", job.deadlineAt());
        }
        cols.put("updated_at", now);

        String accountAfter = cols.containsKey("account_id") ? (String) cols.get("account_id") : job.accountId();
        boolean heldBefore = job.holdsSlot();
        boolean holdsAfter = to == JobStatus.RUNNING && phase.holdsSlot() && accountAfter != null;
        if (holdsAfter && !heldBefore && !change.slotAcquired) {
            throw new IllegalStateException("job " + job.id() + " enters " + phase + " without an account slot");
        }
        if (store.update(job, cols) == 0) throw new ConcurrentJobChange(job.id());
        if (heldBefore && (!holdsAfter || !job.accountId().equals(accountAfter))) accounts.releaseSlot(job.accountId());
        if (statusChanged) store.appendHistory(job.id(), now, job.status(), to, phase, change.reason());
        // The credits a job holds are captured or released in the transaction that ends it.
        if (statusChanged && to.terminal()) ledger.settle(job.id(), to == JobStatus.SUCCEEDED);

        Job updated = store.find(job.id()).orElseThrow();
        if (statusChanged) outbox.onStatusChange(updated, now);
        events.publishEvent(new JobEvent(updated, job.status()));
        return updated;
    }
}

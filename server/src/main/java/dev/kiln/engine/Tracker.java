package dev.kiln.engine;

import dev.kiln.config.KilnProperties;
import dev.kiln.job.Job;
import dev.kiln.job.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Claims jobs whose next step is due — a poll, a retried download, a remote cancel, an
 * ambiguous submit to reconcile, a deadline — with a lease, in one short transaction. Jobs a
 * runner holds in memory are leased and skipped; when a process dies its leases expire and its
 * jobs are claimed here.
 */
@Component
class Tracker {
    static final int BATCH = 128;
    private final JobStore store;
    private final KilnProperties props;
    private final Clock clock;
    private final Instance instance;
    private final TransactionTemplate tx;

    Tracker(JobStore store, KilnProperties props, Clock clock, Instance instance, TransactionTemplate tx) {
        this.store = store;
        this.props = props;
        this.clock = clock;
        this.instance = instance;
        this.tx = tx;
    }

    List<Job> claim(int capacity) {
        if (capacity <= 0) return List.of();
        Instant now = clock.instant();
        return tx.execute(s -> store.claimDue(now, Math.min(capacity, BATCH), instance.id(), now.plus(props.lease())));
    }

    Duration idle() {
        Instant now = clock.instant();
        return store.earliestDue(false).filter(t -> t.isAfter(now)).map(t -> Duration.between(now, t))
                .filter(d -> d.compareTo(Duration.ofSeconds(1)) < 0).orElse(Duration.ofSeconds(1));
    }
}

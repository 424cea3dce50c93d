package dev.kiln.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.account.Account;
import dev.kiln.account.AccountFixtures;
import dev.kiln.account.AccountStore;
import dev.kiln.support.Ids;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** The job store and state machine, against a real database (H2 and PostgreSQL subclasses). */
abstract class JobStoreContract {
    HikariDataSource ds;
    JobStore store;
    JobStateMachine machine;
    AccountStore accounts;
    TransactionTemplate tx;
    final List<JobEvent> events = Collections.synchronizedList(new ArrayList<>());
    final Clock clock = Clock.systemUTC();

    abstract HikariDataSource dataSource();

    @BeforeEach
    void setUp() throws Exception {
        ds = dataSource();
        JdbcClient jdbc = JdbcClient.create(ds);
        store = new JobStore(jdbc, new JdbcTemplate(ds), dev.kiln.db.Dialect.of(ds));
        Path dir = Files.createTempDirectory("kiln-test");
        accounts = AccountFixtures.store(jdbc, dir);
        machine = new JobStateMachine(store, accounts, new Outbox(jdbc), new dev.kiln.credit.Ledger(jdbc, new JdbcTemplate(ds), clock),
                e -> events.add((JobEvent) e), clock);
        tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
    }

    @AfterEach
    void tearDown() {
        ds.close();
    }

    JobStore.NewJob newJob(int priority, Instant deadline) {
        Instant now = clock.instant();
        return new JobStore.NewJob(Ids.newId("job"), null, null, "usr_test", "sandbox-image", "txt2img", priority, "a cat", null,
                "{\"seed\":1}", "{}", null, 3, BigDecimal.ONE, 2, Ids.secretToken(), null, deadline, now, null, "v1", "image");
    }

    JobStore.NewJob newJob(String owner, int priority, String lane) {
        Instant now = clock.instant();
        return new JobStore.NewJob(Ids.newId("job"), null, null, owner, "sandbox-image", "txt2img", priority, "a cat", null,
                "{\"seed\":1}", "{}", null, 3, BigDecimal.ONE, 2, Ids.secretToken(), null, now.plus(Duration.ofMinutes(20)), now,
                null, "v1", lane);
    }

    Job insert(String owner, int priority, String lane) {
        JobStore.NewJob n = newJob(owner, priority, lane);
        store.insertAll(List.of(n));
        return store.find(n.id()).orElseThrow();
    }

    Job insert(int priority) {
        JobStore.NewJob n = newJob(priority, clock.instant().plus(Duration.ofMinutes(20)));
        store.insertAll(List.of(n));
        return store.find(n.id()).orElseThrow();
    }

    Job dispatch(Job j, Account a) {
        return tx.execute(s -> {
            assertThat(accounts.tryAcquireSlot(a.id(), clock.instant())).isTrue();
            return machine.apply(j, JobChange.to(JobStatus.RUNNING, Phase.SUBMIT, "test").account(a.provider(), 0, a.id())
                    .submitState(SubmitState.INTENT).attempt(1).slotAcquired());
        });
    }

    /** The queries retention and the per-receiver outbox rely on, on both databases. */
    @Test
    void retentionAndOutboxQueries() {
        Account a = AccountFixtures.ready(accounts, "sandbox", "ret", 4);
        Job done = machine.apply(dispatch(insert(0), a), JobChange.to(JobStatus.FAILED, Phase.DONE, "boom").error("x", "boom"));
        Job running = dispatch(insert(0), a);
        Instant later = clock.instant().plus(Duration.ofMinutes(5));
        assertThat(store.finishedBefore(later, 10)).containsExactly(done.id());
        assertThat(store.finishedBefore(clock.instant().minus(Duration.ofMinutes(5)), 10)).isEmpty();
        assertThat(store.trimHistory(later, 1)).isEqualTo(1);
        assertThat(store.trimHistory(later, 100)).isEqualTo(2);
        assertThat(store.history(done.id())).isEmpty();
        assertThat(store.history(running.id())).hasSize(2);

        Outbox outbox = new Outbox(JdbcClient.create(ds));
        JdbcClient jdbc = JdbcClient.create(ds);
        Instant now = clock.instant();
        for (String url : List.of("http://slow.example:8080/a", "http://SLOW.example:8080/b", "https://fast.example/c")) {
            jdbc.sql("INSERT INTO outbox (job_id, url, receiver, event, payload, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                    .params(done.id(), url, Outbox.receiverOf(url), "job.failed", "{}", dev.kiln.db.Db.ts(now), dev.kiln.db.Db.ts(now)).update();
        }
        assertThat(Outbox.receiverOf("http://SLOW.example:8080/b")).isEqualTo("http://slow.example:8080");
        assertThat(Outbox.receiverOf("https://fast.example/c")).isEqualTo("https://fast.example:443");
        assertThat(outbox.due(later, 10, List.of())).hasSize(3);
        List<Outbox.Delivery> others = outbox.due(later, 10, List.of("http://slow.example:8080"));
        assertThat(others).extracting(Outbox.Delivery::receiver).containsExactly("https://fast.example:443");
        assertThat(outbox.dueFor("http://slow.example:8080", later, 10)).hasSize(2);
        long id = others.getFirst().id();
        assertThat(outbox.claim(id, later, later.plus(Duration.ofMinutes(2)))).isTrue();
        assertThat(outbox.claim(id, later, later.plus(Duration.ofMinutes(2)))).as("claimed once").isFalse();
        outbox.delivered(id, later);
        assertThat(outbox.purgeDone(later.plusSeconds(1), 10)).isEqualTo(1);
        outbox.deleteForJob(done.id());
        assertThat(outbox.due(later, 10, List.of())).isEmpty();
    }

    @Test
    void insertsAndReadsBackAJob() {
        Job j = insert(0);
        assertThat(j.status()).isEqualTo(JobStatus.QUEUED);
        assertThat(j.phase()).isEqualTo(Phase.DISPATCH);
        assertThat(j.params().get("seed").asInt()).isEqualTo(1);
        assertThat(j.version()).isZero();
        assertThat(j.nextAt()).isNotNull();
    }

    @Test
    void refusesAChangeTheTransitionTableForbids() {
        Job j = insert(0);
        assertThatThrownBy(() -> machine.apply(j, JobChange.to(JobStatus.SUCCEEDED, Phase.DONE, "skip")))
                .isInstanceOf(JobTransitions.IllegalTransition.class)
                .hasMessageContaining("cannot change state from queued to succeeded");
        assertThat(store.find(j.id()).orElseThrow().status()).isEqualTo(JobStatus.QUEUED);
    }

    @Test
    void refusesAChangeBasedOnAStaleRead() {
        Job j = insert(0);
        machine.apply(j, JobChange.fields().progress(0.5));
        assertThatThrownBy(() -> machine.apply(j, JobChange.to(JobStatus.CANCELED, Phase.DONE, "late")))
                .isInstanceOf(ConcurrentJobChange.class);
        assertThat(store.find(j.id()).orElseThrow().status()).isEqualTo(JobStatus.QUEUED);
    }

    @Test
    void recordsEveryStatusChangeInTheHistory() {
        Account a = AccountFixtures.ready(accounts, "sandbox", "h", 4);
        Job j = dispatch(insert(0), a);
        machine.apply(j, JobChange.to(JobStatus.FAILED, Phase.DONE, "boom").error("x", "boom"));
        List<JobStore.HistoryEntry> h = store.history(j.id());
        assertThat(h).extracting(JobStore.HistoryEntry::to).containsExactly("queued", "running", "failed");
        assertThat(h.getLast().reason()).isEqualTo("boom");
        assertThat(events).extracting(e -> e.job().status()).containsExactly(JobStatus.RUNNING, JobStatus.FAILED);
    }

    @Test
    void takesAnAccountSlotAtDispatchAndFreesItWhenTheJobLeavesTheProvider() {
        Account a = AccountFixtures.ready(accounts, "sandbox", "s", 2);
        Job j = dispatch(insert(0), a);
        assertThat(accounts.find(a.id()).orElseThrow().inFlight()).isEqualTo(1);
        j = machine.apply(j, JobChange.phase(Phase.TRACK).remoteId("r1"));
        assertThat(accounts.find(a.id()).orElseThrow().inFlight()).isEqualTo(1);
        machine.apply(j, JobChange.to(JobStatus.SUCCEEDED, Phase.DONE, "ok"));
        assertThat(accounts.find(a.id()).orElseThrow().inFlight()).isZero();
    }

    @Test
    void neverTakesMoreSlotsThanTheAccountAllows() {
        Account a = AccountFixtures.ready(accounts, "sandbox", "cap", 2);
        assertThat(accounts.tryAcquireSlot(a.id(), clock.instant())).isTrue();
        assertThat(accounts.tryAcquireSlot(a.id(), clock.instant())).isTrue();
        assertThat(accounts.tryAcquireSlot(a.id(), clock.instant())).isFalse();
        accounts.releaseSlot(a.id());
        assertThat(accounts.tryAcquireSlot(a.id(), clock.instant())).isTrue();
    }

    @Test
    void refusesToEnterTheProviderWithoutASlot() {
        Account a = AccountFixtures.ready(accounts, "sandbox", "noslot", 2);
        Job j = insert(0);
        assertThatThrownBy(() -> machine.apply(j, JobChange.to(JobStatus.RUNNING, Phase.SUBMIT, "x").account("sandbox", 0, a.id())))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void twoClaimersNeverGetTheSameJob() throws Exception {
        Account a = AccountFixtures.ready(accounts, "sandbox", "claim", 1000);
        List<JobStore.NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 120; i++) batch.add(newJob(0, clock.instant().plus(Duration.ofMinutes(20))));
        store.insertAll(batch);
        for (JobStore.NewJob n : batch) {
            Job d = dispatch(store.find(n.id()).orElseThrow(), a);
            machine.apply(d, JobChange.phase(Phase.TRACK).remoteId("r-" + n.id()).nextAt(clock.instant().minusSeconds(1)).releaseLease());
        }
        int claimers = 4;
        CyclicBarrier start = new CyclicBarrier(claimers);
        ExecutorService pool = Executors.newFixedThreadPool(claimers);
        List<Future<List<String>>> got = new ArrayList<>();
        for (int c = 0; c < claimers; c++) {
            String owner = "owner-" + c;
            got.add(pool.submit(() -> {
                start.await();
                List<String> mine = new ArrayList<>();
                while (true) {
                    List<Job> claimed = tx.execute(s -> store.claimDue(clock.instant(), 7, owner, clock.instant().plusSeconds(60)));
                    if (claimed.isEmpty()) {
                        if (countUnleased() == 0) return mine;
                        Thread.sleep(5);
                        continue;
                    }
                    claimed.forEach(j -> mine.add(j.id()));
                }
            }));
        }
        Set<String> all = new HashSet<>();
        int total = 0;
        for (Future<List<String>> f : got) {
            List<String> ids = f.get();
            total += ids.size();
            all.addAll(ids);
        }
        pool.shutdown();
        assertThat(total).isEqualTo(120);
        assertThat(all).hasSize(120);
    }

    private int countUnleased() {
        return JdbcClient.create(ds).sql("SELECT COUNT(*) FROM jobs WHERE lease_owner IS NULL AND phase = 'track'")
                .query(Integer.class).single();
    }

    @Test
    void anExpiredLeaseIsClaimableAgainAndALiveOneIsNot() {
        Account a = AccountFixtures.ready(accounts, "sandbox", "lease", 10);
        Job j = dispatch(insert(0), a);
        machine.apply(j, JobChange.phase(Phase.TRACK).remoteId("r").nextAt(clock.instant().minusSeconds(1))
                .lease("dead-process", clock.instant().plusSeconds(60)));
        List<Job> none = tx.execute(s -> store.claimDue(clock.instant(), 10, "me", clock.instant().plusSeconds(30)));
        assertThat(none).isEmpty();
        JdbcClient.create(ds).sql("UPDATE jobs SET lease_until = ? WHERE id = ?")
                .params(dev.kiln.db.Db.ts(clock.instant().minusSeconds(1)), j.id()).update();
        List<Job> claimed = tx.execute(s -> store.claimDue(clock.instant(), 10, "me", clock.instant().plusSeconds(30)));
        assertThat(claimed).extracting(Job::id).containsExactly(j.id());
        assertThat(store.find(j.id()).orElseThrow().leaseOwner()).isEqualTo("me");
    }

    @Test
    void neverSchedulesWorkPastTheDeadline() {
        Instant deadline = clock.instant().plusSeconds(30);
        JobStore.NewJob n = newJob(0, deadline);
        store.insertAll(List.of(n));
        Job j = machine.apply(store.find(n.id()).orElseThrow(), JobChange.fields().nextAt(clock.instant().plus(Duration.ofHours(1))));
        assertThat(j.nextAt()).isEqualTo(j.deadlineAt());
    }

    @Test
    void aQueuedJobPastItsDeadlineIsClaimedForTimingOut() {
        JobStore.NewJob n = newJob(0, clock.instant().minusSeconds(1));
        store.insertAll(List.of(n));
        List<Job> claimed = tx.execute(s -> store.claimDue(clock.instant(), 10, "me", clock.instant().plusSeconds(30)));
        assertThat(claimed).extracting(Job::id).containsExactly(n.id());
    }

    @Test
    void queuePositionFollowsPriorityThenAge() {
        Job low = insert(0);
        Job high = insert(5);
        Job low2 = insert(0);
        assertThat(store.queuePosition(high)).isZero();
        assertThat(store.queuePosition(low)).isEqualTo(1);
        assertThat(store.queuePosition(low2)).isEqualTo(2);
        List<Job> order = tx.execute(s -> store.lockDispatchable(clock.instant(), 10));
        assertThat(order).extracting(Job::id).containsExactly(high.id(), low.id(), low2.id());
    }

    @Test
    void concurrentDispatchersLockDisjointJobs() throws Exception {
        for (int i = 0; i < 30; i++) insert(0);
        CountDownLatch firstHolds = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Future<List<String>> a = pool.submit(() -> tx.execute(s -> {
            List<String> ids = store.lockDispatchable(clock.instant(), 10).stream().map(Job::id).toList();
            firstHolds.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return ids;
        }));
        firstHolds.await();
        Future<List<String>> b = pool.submit(() -> tx.execute(s -> store.lockDispatchable(clock.instant(), 10).stream().map(Job::id).toList()));
        List<String> second = b.get();
        release.countDown();
        List<String> first = a.get();
        pool.shutdown();
        assertThat(first).hasSize(10);
        assertThat(second).doesNotContainAnyElementsOf(first);
        secondClaimerSees(second);
    }

    @Test
    void aDispatcherLocksOnlyTheJobsItTakes() throws Exception {
        List<Job> queued = new java.util.ArrayList<>();
        for (int i = 0; i < 30; i++) queued.add(insert(0));
        CountDownLatch firstHolds = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Future<List<String>> a = pool.submit(() -> tx.execute(s -> {
            List<String> ids = store.lockDispatchable(clock.instant(), 10).stream().map(Job::id).toList();
            firstHolds.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return ids;
        }));
        firstHolds.await();
        // A job further down the queue stays free: an API cancel of it does not wait for the round.
        String last = queued.getLast().id();
        Future<Integer> other = pool.submit(() -> tx.execute(s -> JdbcClient.create(ds)
                .sql("UPDATE jobs SET priority = priority WHERE id = ?").param(last).update()));
        assertThat(other.get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
        release.countDown();
        assertThat(a.get()).hasSize(10).doesNotContain(last);
        pool.shutdown();
    }

    /**
     * Fair share: a user's lone job submitted after another user's 1,000 queued jobs is among the
     * first two the dispatcher takes (the other user's oldest job has the same turn and is older),
     * and the first once that user has a job running. Its queue position says the same.
     */
    @Test
    void aLoneJobIsTakenInTheFirstRoundBehindAnotherUsersThousandJobs() {
        List<JobStore.NewJob> backlog = new ArrayList<>();
        for (int i = 0; i < 1000; i++) backlog.add(newJob("usr_a", 0, "image"));
        store.insertAll(backlog);
        Job lone = insert("usr_b", 0, "image");

        // The claim's cost, measured (each round rolled back): the median of 7 after a warm-up.
        long[] micros = new long[8];
        for (int i = 0; i < micros.length; i++) {
            long t0 = System.nanoTime();
            tx.executeWithoutResult(s -> {
                store.lockDispatchable(clock.instant(), Dispatcher_BATCH, 0);
                s.setRollbackOnly();
            });
            micros[i] = (System.nanoTime() - t0) / 1000;
        }
        long[] warm = java.util.Arrays.copyOfRange(micros, 1, micros.length);
        java.util.Arrays.sort(warm);
        System.out.printf("fair claim of 128 jobs from a queue of 1,001 (%s): first %d µs, median of 7 after %d µs%n",
                getClass().getSimpleName(), micros[0], warm[3]);
        List<Job> round = tx.execute(s -> store.lockDispatchable(clock.instant(), Dispatcher_BATCH, 0));
        assertThat(round).hasSize(Dispatcher_BATCH);
        assertThat(round).extracting(Job::id).startsWith(backlog.getFirst().id(), lone.id());
        assertThat(store.queuePosition(store.find(lone.id()).orElseThrow())).isEqualTo(1);
        assertThat(store.queuePosition(store.find(backlog.get(1).id()).orElseThrow())).isEqualTo(2);

        // With one of its jobs running, the big user's next job waits for the lone one.
        Account a = AccountFixtures.ready(accounts, "sandbox", "fair", 4);
        dispatch(store.find(backlog.getFirst().id()).orElseThrow(), a);
        List<Job> next = tx.execute(s -> store.lockDispatchable(clock.instant(), 1, 0));
        assertThat(next).extracting(Job::id).containsExactly(lone.id());
        assertThat(store.queuePosition(store.find(lone.id()).orElseThrow())).isZero();
        Map<String, Integer> positions = store.queuePositions(List.of(store.find(backlog.get(1).id()).orElseThrow(),
                store.find(backlog.get(2).id()).orElseThrow(), store.find(lone.id()).orElseThrow()));
        assertThat(positions).containsEntry(lone.id(), 0).containsEntry(backlog.get(1).id(), 1).containsEntry(backlog.get(2).id(), 2);
    }

    /** The old order — priority, then age — ranks each user's own jobs; users' turns come first. */
    @Test
    void turnsComeFirstThenPriorityThenAge() {
        Job a1 = insert("usr_a", 0, "image");
        Job a2 = insert("usr_a", 9, "image");
        Job a3 = insert("usr_a", 0, "image");
        Job b1 = insert("usr_b", 0, "image");
        Job b2 = insert("usr_b", 0, "image");
        Job c1 = insert("usr_c", 1, "image");
        List<Job> order = tx.execute(s -> store.lockDispatchable(clock.instant(), 10, 0));
        // Turn 1: a2 (priority 9), c1 (priority 1), b1; turn 2: a1, b2 (age); turn 3: a3.
        assertThat(order).extracting(Job::id).containsExactly(a2.id(), c1.id(), b1.id(), a1.id(), b2.id(), a3.id());
    }

    /** Users take turns inside each lane: a user's jobs in one lane do not use up their turn in another. */
    @Test
    void eachLaneHasItsOwnTurns() {
        for (int i = 0; i < 5; i++) insert("usr_a", 0, "image");
        Job video = insert("usr_a", 0, "video");
        Job b = insert("usr_b", 0, "image");
        List<Job> order = tx.execute(s -> store.lockDispatchable(clock.instant(), 3, 0));
        assertThat(order).extracting(Job::id).contains(video.id(), b.id());
        assertThat(store.queuePosition(store.find(video.id()).orElseThrow())).isZero();
        assertThat(store.queuePosition(store.find(b.id()).orElseThrow())).isEqualTo(1);
    }

    /** A user with as many jobs running as the cap allows gets none dispatched; others still do. */
    @Test
    void usersAtTheirCapOfRunningJobsAreLeftQueued() {
        Account a = AccountFixtures.ready(accounts, "sandbox", "cap", 10);
        for (int i = 0; i < 2; i++) dispatch(insert("usr_a", 0, "image"), a);
        Job waiting = insert("usr_a", 5, "image");
        Job other = insert("usr_b", 0, "image");
        List<Job> capped = tx.execute(s -> store.lockDispatchable(clock.instant(), 10, 2));
        assertThat(capped).extracting(Job::id).containsExactly(other.id());
        // Below the cap, its turn counts its running jobs: third, after the other user's first.
        List<Job> room = tx.execute(s -> store.lockDispatchable(clock.instant(), 10, 3));
        assertThat(room).extracting(Job::id).containsExactly(other.id(), waiting.id());
        assertThat(store.runningByOwner(Set.of("usr_a", "usr_b", "usr_x"))).isEqualTo(Map.of("usr_a", 2));
    }

    /** What admission and the admin view read: a lane's queue, its oldest entry, its running work. */
    @Test
    void laneQueuesAndLoads() {
        Account a = AccountFixtures.ready(accounts, "sandbox", "lanes", 10);
        Job first = insert("usr_a", 0, "video");
        insert("usr_b", 0, "video");
        Job running = dispatch(insert("usr_a", 0, "video"), a);
        Job image = insert("usr_a", 0, "image");
        JobStore.LaneQueue q = store.laneQueue("video");
        assertThat(q.queued()).isEqualTo(2);
        assertThat(q.oldestQueuedAt()).isEqualTo(first.createdAt());
        assertThat(store.laneQueue("nothing")).isEqualTo(new JobStore.LaneQueue(0, null));
        assertThat(store.laneWork("video")).isEqualTo(new JobStore.LaneWork(1, 2.0));
        assertThat(store.laneLoads()).containsEntry("video", new JobStore.LaneLoad(2, 1, first.createdAt()))
                .containsEntry("image", new JobStore.LaneLoad(1, 0, image.createdAt()));
        tx.executeWithoutResult(s -> store.lockLane("video", 3));
        tx.executeWithoutResult(s -> store.lockLane("video", 2));
        assertThat(store.laneAdmissions()).containsEntry("video", 5L);

        // The first job leaves the queue; one sent back to it (a transient failure) joins it anew.
        machine.apply(first, JobChange.to(JobStatus.CANCELED, Phase.DONE, "test"));
        Job requeued = machine.apply(running, JobChange.to(JobStatus.QUEUED, Phase.DISPATCH, "retry").nextAt(clock.instant()));
        assertThat(requeued.lane()).isEqualTo("video");
        Instant rejoined = JdbcClient.create(ds).sql("SELECT queued_at FROM jobs WHERE id = ?").param(running.id())
                .query((rs, n) -> dev.kiln.db.Db.instant(rs, "queued_at")).single();
        assertThat(rejoined).isAfter(running.createdAt());
        assertThat(store.laneQueue("video").queued()).isEqualTo(2);

        // The configuration moved the model: its unfinished jobs move with it, finished ones stay.
        assertThat(store.relane("sandbox-image", "pictures")).isEqualTo(3);
        assertThat(store.laneQueue("pictures").queued()).isEqualTo(3);
        assertThat(store.find(first.id()).orElseThrow().lane()).isEqualTo("video");
    }

    static final int Dispatcher_BATCH = 128;

    /** What a second concurrent claimer gets while the first holds its rows (differs by database). */
    abstract void secondClaimerSees(List<String> second);
}

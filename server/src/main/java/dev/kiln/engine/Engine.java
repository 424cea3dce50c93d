package dev.kiln.engine;

import dev.kiln.account.AccountStore;
import dev.kiln.db.Dialect;
import dev.kiln.job.Job;
import dev.kiln.job.JobEvent;
import dev.kiln.job.JobStatus;
import dev.kiln.job.JobStore;
import dev.kiln.job.JobsQueued;
import dev.kiln.job.Phase;
import jakarta.annotation.PreDestroy;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * Runs the dispatcher and tracker loops. Each sleeps until the earliest due time in the database
 * (at most a second, so work of other instances is found too) or until signalled: new jobs, a
 * freed slot, a webhook. Runners are virtual threads, bounded by {@link #MAX_DRIVING}. A round
 * that fails in any way, {@link Error}s included, is logged and the loop goes on ({@link Loops}).
 */
@Component
public class Engine {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    static final int MAX_DRIVING = 2000;

    private final Dispatcher dispatcher;
    private final Tracker tracker;
    private final JobRunner runner;
    private final JobStore store;
    private final AccountStore accounts;
    private final LocalJobs local;
    private final Dialect dialect;
    private final Clock clock;
    private final OutboxSender outbox;
    private final Signal dispatchSignal = new Signal();
    private final Signal trackSignal = new Signal();
    private final AtomicInteger driving = new AtomicInteger();
    private final ExecutorService runners = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("kiln-job-", 0).factory());
    private volatile boolean running;
    private Thread dispatchLoop;
    private Thread trackLoop;

    Engine(Dispatcher dispatcher, Tracker tracker, JobRunner runner, JobStore store, AccountStore accounts, LocalJobs local,
           Dialect dialect, Clock clock, OutboxSender outbox) {
        this.dispatcher = dispatcher;
        this.tracker = tracker;
        this.runner = runner;
        this.store = store;
        this.accounts = accounts;
        this.local = local;
        this.dialect = dialect;
        this.clock = clock;
        this.outbox = outbox;
    }

    @EventListener(ApplicationReadyEvent.class)
    void start() {
        if (dialect.singleProcess()) {
            int n = store.releaseAllLeases(clock.instant());
            if (n > 0) log.info("recovered {} job(s) leased by the previous process", n);
        }
        accounts.recountInFlight();
        running = true;
        dispatchLoop = Thread.ofVirtual().name("kiln-dispatcher").start(this::dispatchLoop);
        trackLoop = Thread.ofVirtual().name("kiln-tracker").start(this::trackLoop);
    }

    @PreDestroy
    void stop() throws InterruptedException {
        running = false;
        if (dispatchLoop != null) dispatchLoop.interrupt();
        if (trackLoop != null) trackLoop.interrupt();
        runners.shutdownNow();
        runners.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Something queued new jobs. */
    @TransactionalEventListener
    void onQueued(JobsQueued e) {
        dispatchSignal.signal();
    }

    /** A job changed: a freed slot or a requeue may let the dispatcher place more work. */
    @TransactionalEventListener
    void onJobEvent(JobEvent e) {
        Job j = e.job();
        if (e.statusChanged() || j.phase() == Phase.FETCH) dispatchSignal.signal();
        if (e.statusChanged() && j.callback() != null) outbox.wake();
        if (j.status() == JobStatus.QUEUED || (j.phase() == Phase.CANCEL && !local.nudge(j.id()))) trackSignal.signal();
    }

    /**
     * Asks for immediate attention to a job (a webhook arrived, or it was cancelled): wakes its
     * runner if this process holds it, else moves its next step to now.
     */
    public void expedite(String jobId) {
        if (!local.nudge(jobId)) {
            store.expedite(jobId, clock.instant());
            trackSignal.signal();
            expedited.accept(jobId);
        }
    }

    private volatile java.util.function.Consumer<String> expedited = id -> {};

    /** Called after a job was expedited but is not driven here (another instance may hold it). */
    void onExpedite(java.util.function.Consumer<String> c) {
        this.expedited = c;
    }

    /** Another instance asks for attention to a job: wake its runner here if this process drives it. */
    void nudgeLocal(String jobId) {
        if (!local.nudge(jobId)) trackSignal.signal();
    }

    void wakeDispatcher() {
        dispatchSignal.signal();
    }

    void wakeTracker() {
        trackSignal.signal();
    }

    /** Jobs being driven by this process right now. */
    public int driving() {
        return driving.get();
    }

    private void dispatchLoop() {
        while (running) {
            try {
                Dispatcher.Round r = dispatcher.dispatch(MAX_DRIVING - driving.get());
                r.dispatched().forEach(j -> launch(j, true));
                if (r.full()) continue;
                Duration idle = dispatcher.idle();
                if (r.retryAt() != null) {
                    Duration until = Duration.between(clock.instant(), r.retryAt());
                    if (until.compareTo(idle) < 0) idle = until;
                }
                dispatchSignal.await(idle);
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                Loops.survive(log, "dispatch round", t);
            }
        }
    }

    private void trackLoop() {
        while (running) {
            try {
                List<Job> claimed = tracker.claim(MAX_DRIVING - driving.get());
                claimed.forEach(j -> launch(j, false));
                if (claimed.size() == Tracker.BATCH) continue;
                trackSignal.await(tracker.idle());
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                Loops.survive(log, "tracking round", t);
            }
        }
    }

    private void launch(Job job, boolean freshIntent) {
        driving.incrementAndGet();
        try {
            runners.execute(() -> {
                try {
                    runner.drive(job, freshIntent);
                } catch (Throwable t) {
                    // The job keeps its lease until it expires; then the tracker takes it up again.
                    Loops.survive(log, "driving job " + job.id(), t);
                } finally {
                    driving.decrementAndGet();
                    dispatchSignal.signal();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            driving.decrementAndGet();
        }
    }
}

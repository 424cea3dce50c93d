package dev.kiln.compat;

import dev.kiln.job.Job;
import dev.kiln.job.JobEvent;
import dev.kiln.job.JobStore;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * Waits for jobs to end without holding a request thread: what the seed APIs' synchronous calls
 * (RunPod's {@code /runsync}, Vibewave's {@code generate}) answer after. A waiter is woken by the
 * job's committed change on this instance, and a once-a-second look at the database catches a job
 * that another instance of a cluster finished.
 */
@Component
public class JobWaiter {
    private static final Duration SWEEP = Duration.ofSeconds(1);

    private final JobStore store;
    private final Map<String, List<CompletableFuture<Void>>> waiting = new ConcurrentHashMap<>();
    private final Thread sweeper;

    JobWaiter(JobStore store) {
        this.store = store;
        this.sweeper = Thread.ofVirtual().name("kiln-compat-waiter").start(this::sweep);
    }

    /**
     * Completes when every one of the jobs has ended (succeeded, failed, canceled, timed out), or
     * when {@code max} has passed, whichever comes first; it never completes exceptionally.
     */
    public CompletableFuture<Void> whenDone(List<String> jobIds, Duration max) {
        List<CompletableFuture<Void>> each = jobIds.stream().map(this::register).toList();
        CompletableFuture<Void> all = CompletableFuture.allOf(each.toArray(CompletableFuture[]::new));
        CompletableFuture<Void> out = new CompletableFuture<>();
        all.whenComplete((v, t) -> out.complete(null));
        out.completeOnTimeout(null, Math.max(0, max.toMillis()), TimeUnit.MILLISECONDS);
        out.whenComplete((v, t) -> each.forEach(f -> f.complete(null)));
        return out;
    }

    private CompletableFuture<Void> register(String id) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        waiting.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(f);
        f.whenComplete((v, t) -> waiting.computeIfPresent(id, (k, list) -> {
            list.remove(f);
            return list.isEmpty() ? null : list;
        }));
        // Registered first, then looked at: a job that ended in between is not missed.
        if (store.find(id).map(j -> j.status().terminal() || j.deleted()).orElse(true)) f.complete(null);
        return f;
    }

    @TransactionalEventListener(fallbackExecution = true)
    void on(JobEvent e) {
        Job j = e.job();
        if (j.status().terminal()) wake(j.id());
    }

    private void wake(String id) {
        List<CompletableFuture<Void>> list = waiting.get(id);
        if (list != null) list.forEach(f -> f.complete(null));
    }

    private void sweep() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(SWEEP);
                for (String id : List.copyOf(waiting.keySet())) {
                    if (store.find(id).map(j -> j.status().terminal() || j.deleted()).orElse(true)) wake(id);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // The database is briefly unreachable: the waiters' own time limits still hold.
            }
        }
    }

    @PreDestroy
    void stop() {
        sweeper.interrupt();
        waiting.values().forEach(list -> list.forEach(f -> f.complete(null)));
    }
}

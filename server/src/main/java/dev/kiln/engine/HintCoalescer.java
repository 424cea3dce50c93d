package dev.kiln.engine;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * At most one "poll this job now" per job per window, however many webhooks arrive: the first
 * hint acts at once, later ones within the window become a single trailing hint at its end (so the
 * last news is never lost), and the rest are dropped. A burst of deliveries therefore costs one
 * poll, not one database write and one provider call each.
 */
final class HintCoalescer implements AutoCloseable {
    /** What became of a hint. */
    enum Outcome { NOW, LATER, DROPPED }

    private record Window(long firedAt, boolean trailing) {}

    private final long windowNanos;
    private final Consumer<String> fire;
    private final Map<String, Window> recent = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("kiln-hints").factory());

    HintCoalescer(Duration window, Consumer<String> fire) {
        this.windowNanos = window.toNanos();
        this.fire = fire;
    }

    Outcome offer(String jobId) {
        long now = System.nanoTime();
        Outcome[] out = {Outcome.DROPPED};
        long[] delay = {0};
        recent.compute(jobId, (k, w) -> {
            if (w == null || now - w.firedAt() >= windowNanos) {
                out[0] = Outcome.NOW;
                return new Window(now, false);
            }
            if (!w.trailing()) {
                out[0] = Outcome.LATER;
                delay[0] = w.firedAt() + windowNanos - now;
                return new Window(w.firedAt(), true);
            }
            return w;
        });
        switch (out[0]) {
            case NOW -> fire.accept(jobId);
            case LATER -> timer.schedule(() -> trailing(jobId), delay[0], TimeUnit.NANOSECONDS);
            case DROPPED -> { }
        }
        if (recent.size() > 10_000) forgetOld(now);
        return out[0];
    }

    private void trailing(String jobId) {
        recent.put(jobId, new Window(System.nanoTime(), false));
        try {
            fire.accept(jobId);
        } catch (RuntimeException e) {
            // A hint is only a hint: the job's own poll schedule still runs.
        }
    }

    private void forgetOld(long now) {
        recent.entrySet().removeIf(e -> !e.getValue().trailing() && now - e.getValue().firedAt() >= windowNanos);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}

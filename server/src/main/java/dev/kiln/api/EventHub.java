package dev.kiln.api;

import dev.kiln.config.LimitsProperties;
import dev.kiln.job.JobEvent;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Server-Sent Events: one {@code job} event per committed job change that a subscriber's filter
 * (run, job, owner) matches. Each subscriber has its own small queue
 * ({@code KILN_EVENTS_BUFFER}) and sender thread, so a slow client never slows the engine; a
 * client that falls that far behind is dropped, not buffered for, and can reconnect (it then
 * reads current state with GET). At most {@code KILN_EVENTS_MAX_SUBSCRIBERS} streams are open at
 * once (429 beyond), and a stream that carried no event for {@code KILN_EVENTS_IDLE_TIMEOUT} is
 * closed.
 */
@Component
class EventHub {
    static final Duration HEARTBEAT = Duration.ofSeconds(15);
    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
    private final Views views;
    private final JsonMapper json;
    private final LimitsProperties limits;
    private final Counter dropped;

    EventHub(Views views, JsonMapper json, LimitsProperties limits, MeterRegistry metrics) {
        this.views = views;
        this.json = json;
        this.limits = limits;
        metrics.gauge("kiln_event_subscribers", subscribers, Set::size);
        this.dropped = metrics.counter("kiln_event_subscribers_dropped_total");
    }

    final class Subscriber {
        final Caller caller;
        final String run;
        final String job;
        final SseEmitter emitter = new SseEmitter(0L);
        final BlockingQueue<String[]> queue = new ArrayBlockingQueue<>(limits.eventBuffer());
        volatile boolean open = true;
        volatile Thread sender;

        Subscriber(Caller caller, String run, String job) {
            this.caller = caller;
            this.run = run;
            this.job = job;
        }

        boolean wants(dev.kiln.job.Job j) {
            return caller.owns(j.ownerId()) && (run == null || run.equals(j.runId())) && (job == null || job.equals(j.id()));
        }

        void pump() {
            long idle = limits.eventIdleTimeout().toNanos();
            long lastEvent = System.nanoTime();
            try {
                emitter.send(SseEmitter.event().comment("connected"));
                while (open) {
                    long left = idle - (System.nanoTime() - lastEvent);
                    if (left <= 0) {
                        emitter.send(SseEmitter.event().comment("idle for " + limits.eventIdleTimeout() + "; reconnect to go on"));
                        return;
                    }
                    String[] e = queue.poll(Math.min(HEARTBEAT.toNanos(), left), TimeUnit.NANOSECONDS);
                    if (e == null) {
                        if (System.nanoTime() - lastEvent < idle) emitter.send(SseEmitter.event().comment("keep-alive"));
                    } else {
                        lastEvent = System.nanoTime();
                        emitter.send(SseEmitter.event().name(e[0]).id(e[1]).data(e[2], org.springframework.http.MediaType.APPLICATION_JSON));
                    }
                }
            } catch (IOException | IllegalStateException | InterruptedException e) {
                // The client went away.
            } finally {
                close();
            }
        }

        /**
         * Stops a subscriber from the engine's side without touching its stream: the sender may be
         * blocked writing to a client that does not read, and the emitter's lock with it. The sender
         * thread completes the stream when its write returns or fails.
         */
        void drop() {
            if (open) dropped.increment();
            open = false;
            subscribers.remove(this);
            Thread t = sender;
            if (t != null) t.interrupt();
        }

        void close() {
            open = false;
            subscribers.remove(this);
            try {
                emitter.complete();
            } catch (RuntimeException ignored) {
                // Already completed.
            }
        }
    }

    /** @throws KilnException 429 when {@code KILN_EVENTS_MAX_SUBSCRIBERS} streams are open */
    SseEmitter subscribe(Caller caller, String run, String job) {
        Subscriber s = new Subscriber(caller, run, job);
        synchronized (subscribers) {
            if (subscribers.size() >= limits.eventSubscribers()) {
                throw new KilnException(ErrorCode.RATE_LIMITED, subscribers.size() + " event streams are open, the most allowed "
                        + "(KILN_EVENTS_MAX_SUBSCRIBERS); close one or retry later", List.of(), Duration.ofSeconds(5), null);
            }
            subscribers.add(s);
        }
        s.emitter.onCompletion(s::close);
        s.emitter.onTimeout(s::close);
        s.emitter.onError(t -> s.close());
        s.sender = Thread.ofVirtual().name("kiln-sse").start(s::pump);
        return s.emitter;
    }

    @TransactionalEventListener
    void on(JobEvent e) {
        if (subscribers.isEmpty()) return;
        String data = null;
        for (Subscriber s : subscribers) {
            if (!s.wants(e.job())) continue;
            if (data == null) data = json.writeValueAsString(views.jobs(List.of(e.job()), false).getFirst());
            // A full queue means the reader is too slow: drop it rather than hold events for it.
            if (!s.queue.offer(new String[] {"job", e.job().id() + ":" + e.job().version(), data})) s.drop();
        }
    }

    int size() {
        return subscribers.size();
    }
}

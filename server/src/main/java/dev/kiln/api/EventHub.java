package dev.kiln.api;

import dev.kiln.job.JobEvent;
import dev.kiln.user.Caller;
import java.io.IOException;
import java.time.Duration;
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
 * (run, job, owner) matches. Each subscriber has its own bounded queue and sender thread, so a
 * slow client never slows the engine; a client that falls too far behind is disconnected and can
 * reconnect (it then reads current state with GET).
 */
@Component
class EventHub {
    static final Duration HEARTBEAT = Duration.ofSeconds(15);
    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
    private final Views views;
    private final JsonMapper json;

    EventHub(Views views, JsonMapper json) {
        this.views = views;
        this.json = json;
    }

    final class Subscriber {
        final Caller caller;
        final String run;
        final String job;
        final SseEmitter emitter = new SseEmitter(0L);
        final BlockingQueue<String[]> queue = new ArrayBlockingQueue<>(10_000);
        volatile boolean open = true;

        Subscriber(Caller caller, String run, String job) {
            this.caller = caller;
            this.run = run;
            this.job = job;
        }

        boolean wants(dev.kiln.job.Job j) {
            return caller.owns(j.ownerId()) && (run == null || run.equals(j.runId())) && (job == null || job.equals(j.id()));
        }

        void pump() {
            try {
                emitter.send(SseEmitter.event().comment("connected"));
                while (open) {
                    String[] e = queue.poll(HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
                    if (e == null) emitter.send(SseEmitter.event().comment("keep-alive"));
                    else emitter.send(SseEmitter.event().name(e[0]).id(e[1]).data(e[2], org.springframework.http.MediaType.APPLICATION_JSON));
                }
            } catch (IOException | IllegalStateException | InterruptedException e) {
                // The client went away.
            } finally {
                close();
            }
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

    SseEmitter subscribe(Caller caller, String run, String job) {
        Subscriber s = new Subscriber(caller, run, job);
        subscribers.add(s);
        s.emitter.onCompletion(s::close);
        s.emitter.onTimeout(s::close);
        s.emitter.onError(t -> s.close());
        Thread.ofVirtual().name("kiln-sse").start(s::pump);
        return s.emitter;
    }

    @TransactionalEventListener
    void on(JobEvent e) {
        if (subscribers.isEmpty()) return;
        String data = null;
        for (Subscriber s : subscribers) {
            if (!s.wants(e.job())) continue;
            if (data == null) data = json.writeValueAsString(views.jobs(java.util.List.of(e.job()), false).getFirst());
            if (!s.queue.offer(new String[] {"job", e.job().id() + ":" + e.job().version(), data})) s.close();
        }
    }

    int size() {
        return subscribers.size();
    }
}

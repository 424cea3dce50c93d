package dev.kiln.housekeeping;

import dev.kiln.config.RetentionProperties;
import jakarta.annotation.PreDestroy;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Runs every {@link HousekeepingTask} every {@code KILN_RETENTION_INTERVAL} (first a minute after
 * start), on its own virtual thread. Every instance sharing a database may run them: each removes
 * only what is past its retention, so running twice removes nothing more.
 */
@Component
public class Housekeeping {
    private static final Logger log = LoggerFactory.getLogger(Housekeeping.class);
    static final Duration FIRST_RUN = Duration.ofMinutes(1);
    private final List<HousekeepingTask> tasks;
    private final RetentionProperties retention;
    private final Clock clock;
    private volatile boolean running;
    private Thread loop;

    Housekeeping(List<HousekeepingTask> tasks, RetentionProperties retention, Clock clock) {
        this.tasks = List.copyOf(tasks);
        this.retention = retention;
        this.clock = clock;
    }

    @EventListener(ApplicationReadyEvent.class)
    void start() {
        running = true;
        loop = Thread.ofVirtual().name("kiln-housekeeping").start(this::loop);
    }

    @PreDestroy
    void stop() {
        running = false;
        if (loop != null) loop.interrupt();
    }

    /** Runs every task once, now; returns how many things were removed in all. */
    public int runOnce() {
        int n = 0;
        for (HousekeepingTask t : tasks) n += t.run(clock.instant());
        return n;
    }

    private void loop() {
        Duration wait = FIRST_RUN;
        while (running) {
            try {
                Thread.sleep(wait);
                runOnce();
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                log.warn("housekeeping failed; it runs again in {}: {}", retention.interval(), t.toString());
            }
            wait = retention.interval();
        }
    }
}

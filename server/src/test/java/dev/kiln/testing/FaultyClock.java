package dev.kiln.testing;

import java.time.Clock;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The system clock, except that it throws the failures a test arms for a named thread (the
 * engine's loops are named threads that read the clock every round): a way to make a real loop
 * meet an {@link Error} without replacing any of Kiln's own code.
 */
public final class FaultyClock extends Clock {
    /** Makes a {@link FaultyClock} the clock every bean gets. */
    @TestConfiguration(proxyBeanMethods = false)
    public static class Config {
        @Bean
        @Primary
        FaultyClock faultyClock() {
            return new FaultyClock();
        }
    }

    private final Clock base = Clock.systemUTC();
    private final Map<String, Queue<Throwable>> armed = new ConcurrentHashMap<>();

    /** The next reads of the clock on threads with this name throw these, one each. */
    public void failOn(String threadName, Throwable... failures) {
        Queue<Throwable> q = armed.computeIfAbsent(threadName, n -> new ConcurrentLinkedQueue<>());
        for (Throwable t : failures) q.add(t);
    }

    /** Failures armed but not thrown yet. */
    public int pending() {
        return armed.values().stream().mapToInt(Queue::size).sum();
    }

    @Override
    public Instant instant() {
        Queue<Throwable> q = armed.get(Thread.currentThread().getName());
        Throwable t = q == null ? null : q.poll();
        if (t instanceof Error e) throw e;
        if (t instanceof RuntimeException e) throw e;
        return base.instant();
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}

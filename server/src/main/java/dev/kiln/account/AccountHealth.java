package dev.kiln.account;

import dev.kiln.provider.Health;
import dev.kiln.provider.Provider;
import dev.kiln.provider.Providers;
import jakarta.annotation.PreDestroy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Runs provider health checks: new accounts at once, accounts sent to {@code checking} by the
 * pool at once, failed ones again after a backoff, ready ones every few minutes. Each passing
 * check also refreshes what the account can run, where its provider can say
 * ({@link AccountCapabilities}).
 */
@Component
public class AccountHealth {
    private static final Logger log = LoggerFactory.getLogger(AccountHealth.class);
    static final Duration READY_RECHECK = Duration.ofMinutes(5);
    static final Duration FAILED_RECHECK = Duration.ofSeconds(30);

    private final AccountStore store;
    private final Providers providers;
    private final AccountCapabilities capabilities;
    private final Clock clock;
    private final Semaphore wake = new Semaphore(0);
    private final ExecutorService checks = Executors.newVirtualThreadPerTaskExecutor();
    private volatile boolean running;
    private Thread loop;

    AccountHealth(AccountStore store, Providers providers, AccountPool pool, AccountCapabilities capabilities, Clock clock) {
        this.store = store;
        this.capabilities = capabilities;
        this.providers = providers;
        this.clock = clock;
        pool.onHealthCheckRequest(this::wakeUp);
    }

    @EventListener(ApplicationReadyEvent.class)
    void start() {
        running = true;
        loop = Thread.ofVirtual().name("kiln-health").start(this::run);
    }

    @PreDestroy
    void stop() {
        running = false;
        if (loop != null) loop.interrupt();
        checks.shutdownNow();
    }

    public void wakeUp() {
        wake.release();
    }

    private void run() {
        while (running) {
            try {
                checkDue();
                wake.drainPermits();
                wake.tryAcquire(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            } catch (Throwable e) {
                // Errors too: a dead health loop would leave failed accounts failed for good.
                log.warn("health check round failed: {}", e.toString());
                sleepQuietly();
            }
        }
    }

    /** Checks every account that is due; returns when all checks are done. */
    public void checkDue() {
        Instant now = clock.instant();
        List<Account> due = store.list().stream().filter(a -> isDue(a, now)).toList();
        if (due.isEmpty()) return;
        var futures = due.stream().map(a -> checks.submit(() -> check(a))).toList();
        for (var f : futures) {
            try {
                f.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("health check did not finish: {}", e.toString());
            }
        }
    }

    private boolean isDue(Account a, Instant now) {
        Instant last = a.lastCheckAt();
        return switch (a.state()) {
            case PENDING -> true;
            // Asked for by the pool, or left by a check that died with its process.
            case CHECKING -> true;
            case FAILED -> last == null || last.plus(FAILED_RECHECK).isBefore(now);
            case READY -> last == null || last.plus(READY_RECHECK).isBefore(now);
            case DISABLED -> false;
        };
    }

    /** Runs one health check now: {@code → checking → ready | failed}. */
    public Account check(Account a) {
        Instant now = clock.instant();
        if (a.state() != AccountState.CHECKING) {
            if (!store.transition(a, AccountState.CHECKING, a.lastError(), now)) return store.find(a.id()).orElse(a);
            a = store.find(a.id()).orElseThrow();
        }
        Health h;
        try {
            Provider p = providers.find(a.provider()).orElse(null);
            h = p == null ? Health.failed("no adapter for provider " + a.provider()) : p.health(a.toProviderAccount());
        } catch (RuntimeException e) {
            h = Health.failed(e.getMessage());
        }
        // What it can run is stored before it turns ready, so no job is routed on old knowledge;
        // a check that could not tell keeps what the last one found.
        if (h.ok() && h.capabilities() != null) capabilities.save(a, h.capabilities(), clock.instant());
        AccountState to = h.ok() ? AccountState.READY : AccountState.FAILED;
        store.transition(a, to, h.ok() ? null : h.message(), clock.instant());
        if (!h.ok()) log.warn("account {} ({}) failed its health check: {}", a.label(), a.provider(), h.message());
        else log.debug("account {} ({}) is ready: {}", a.label(), a.provider(), h.message());
        return store.find(a.id()).orElseThrow();
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

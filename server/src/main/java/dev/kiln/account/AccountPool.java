package dev.kiln.account;

import dev.kiln.config.KilnProperties;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Chooses the account a job runs on and applies what providers say about accounts: the least
 * loaded {@code ready} account with room and a rate token; cooldown on 429 honouring
 * {@code Retry-After}; {@code failed} only after several failures within a window (through a
 * health check, never directly), never on one.
 */
@Component
public class AccountPool {
    private static final Logger log = LoggerFactory.getLogger(AccountPool.class);
    /** Failures within {@link #FAILURE_WINDOW} that send an account to a health check. */
    public static final int FAILURE_THRESHOLD = 3;
    public static final Duration FAILURE_WINDOW = Duration.ofMinutes(1);

    private final AccountStore store;
    private final KilnProperties props;
    private final Clock clock;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final Map<String, Integer> bucketRates = new ConcurrentHashMap<>();
    private volatile Runnable healthCheckRequest = () -> {};
    /** Providers whose accounts come and go on demand (the pod pool's ComfyUI pods). */
    private final java.util.Set<String> elastic = ConcurrentHashMap.newKeySet();

    AccountPool(AccountStore store, KilnProperties props, Clock clock) {
        this.store = store;
        this.props = props;
        this.clock = clock;
    }

    /** Called by the health checker so the pool can ask for an immediate check. */
    public void onHealthCheckRequest(Runnable r) {
        this.healthCheckRequest = r;
    }

    /** What a dispatch cycle found for a provider. */
    public enum Outcome { CHOSEN, BUSY, NONE_READY }

    public record Choice(Outcome outcome, Account account, Instant retryAt) {}

    /**
     * A view of the accounts for one dispatch cycle, so choices within the cycle see each other's
     * slots without re-reading the table.
     */
    public Cycle cycle() {
        Instant now = clock.instant();
        Map<String, List<Account>> byProvider = new HashMap<>();
        for (Account a : store.list()) byProvider.computeIfAbsent(a.provider(), k -> new ArrayList<>()).add(a);
        return new Cycle(byProvider, now);
    }

    public final class Cycle {
        private final Map<String, List<Account>> byProvider;
        private final Map<String, Integer> taken = new HashMap<>();
        private final Instant now;

        private Cycle(Map<String, List<Account>> byProvider, Instant now) {
            this.byProvider = byProvider;
            this.now = now;
        }

        /** The accounts a provider's work may go to: real ones if any exist, else its sandbox ones. */
        List<Account> eligible(String provider) {
            List<Account> all = byProvider.getOrDefault(provider, List.of());
            boolean forceSandbox = props.sandbox() == KilnProperties.SandboxMode.ON;
            List<Account> real = all.stream().filter(a -> !a.sandbox() && a.state() != AccountState.DISABLED).toList();
            if (!real.isEmpty() && !forceSandbox) return real;
            return all.stream().filter(Account::sandbox).toList();
        }

        /** Picks an account for one job of {@code provider}, taking a rate token. */
        public Choice choose(String provider) {
            return choose(provider, a -> true);
        }

        /**
         * Picks an account for one job of {@code provider} among those that can run it
         * ({@link Eligibility#fits}), taking a rate token; {@link Outcome#NONE_READY} when no ready
         * account can.
         */
        public Choice choose(String provider, java.util.function.Predicate<Account> fits) {
            List<Account> ready = eligible(provider).stream().filter(a -> a.state() == AccountState.READY).filter(fits).toList();
            if (ready.isEmpty()) return new Choice(Outcome.NONE_READY, null, null);
            Instant retryAt = null;
            List<Account> open = new ArrayList<>();
            for (Account a : ready) {
                if (a.coolingDown(now)) {
                    retryAt = min(retryAt, a.cooldownUntil());
                } else if (inFlight(a) < a.maxConcurrency()) {
                    open.add(a);
                }
            }
            open.sort(Comparator.comparingDouble(a -> (double) inFlight(a) / a.maxConcurrency()));
            for (Account a : open) {
                var probe = bucket(a).tryConsumeAndReturnRemaining(1);
                if (probe.isConsumed()) {
                    taken.merge(a.id(), 1, Integer::sum);
                    return new Choice(Outcome.CHOSEN, a, null);
                }
                retryAt = min(retryAt, now.plusNanos(probe.getNanosToWaitForRefill()));
            }
            return new Choice(Outcome.BUSY, null, retryAt);
        }

        /** The accounts that may ever serve {@code provider}'s work (ready or not), disabled ones aside. */
        public List<Account> candidates(String provider) {
            return eligible(provider).stream().filter(a -> a.state() != AccountState.DISABLED).toList();
        }

        /** The account turned out full (its slot was taken elsewhere): nothing more goes to it this cycle. */
        public void full(Account a) {
            taken.put(a.id(), Math.max(0, a.maxConcurrency() - a.inFlight()));
        }

        /** Gives back a choice that was not used (the job was taken by someone else). */
        public void unchoose(Account a) {
            taken.merge(a.id(), -1, Integer::sum);
        }

        private int inFlight(Account a) {
            return a.inFlight() + taken.getOrDefault(a.id(), 0);
        }
    }

    /**
     * Declares that accounts of this provider are made on demand (the pod pool starts ComfyUI pods
     * when jobs wait): its jobs are accepted and wait even while no account of it exists.
     */
    public void elastic(String provider) {
        elastic.add(provider);
    }

    /** Whether any account (other than disabled) could ever serve this provider, or one is made on demand. */
    public boolean serves(String provider) {
        if (elastic.contains(provider)) return true;
        return !cycle().eligible(provider).stream().filter(a -> a.state() != AccountState.DISABLED).toList().isEmpty();
    }

    /** A 429: the account gets no new work until the provider's Retry-After (or a default) has passed. */
    public void rateLimited(String accountId, Duration retryAfter) {
        Duration d = retryAfter == null || retryAfter.isNegative() || retryAfter.isZero() ? Duration.ofSeconds(10) : retryAfter;
        if (d.compareTo(Duration.ofMinutes(10)) > 0) d = Duration.ofMinutes(10);
        store.coolDown(accountId, clock.instant().plus(d));
        log.info("account {} rate-limited; cooling down {} s", accountId, d.toSeconds());
    }

    /**
     * A failure that may be the account's fault (credential refused, provider errors). After
     * {@link #FAILURE_THRESHOLD} within {@link #FAILURE_WINDOW} the account goes to a health check,
     * which decides between ready and failed.
     */
    public void failed(String accountId, String error) {
        int n = store.recordFailure(accountId, error, clock.instant(), FAILURE_WINDOW);
        if (n >= FAILURE_THRESHOLD) {
            store.find(accountId).filter(a -> a.state() == AccountState.READY).ifPresent(a -> {
                if (store.transition(a, AccountState.CHECKING, error, clock.instant())) {
                    log.warn("account {} ({}) failed {} times in {}; checking its health: {}", a.label(), a.provider(), n,
                            FAILURE_WINDOW, error);
                    healthCheckRequest.run();
                }
            });
        }
    }

    public void succeeded(Account account) {
        if (account.recentFailures() > 0) store.recordSuccess(account.id());
    }

    private Bucket bucket(Account a) {
        Integer rate = bucketRates.get(a.id());
        if (rate == null || rate != a.ratePerMinute()) {
            bucketRates.put(a.id(), a.ratePerMinute());
            Bucket b = Bucket.builder()
                    .addLimit(Bandwidth.builder().capacity(Math.max(1, a.ratePerMinute()))
                            .refillGreedy(Math.max(1, a.ratePerMinute()), Duration.ofMinutes(1)).build())
                    .build();
            buckets.put(a.id(), b);
            return b;
        }
        return buckets.get(a.id());
    }

    private static Instant min(Instant a, Instant b) {
        return a == null || (b != null && b.isBefore(a)) ? b : a;
    }
}

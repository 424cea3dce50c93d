package dev.kiln.user;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * Slows down password guessing: each failed login takes a token from two Bucket4j buckets, one
 * per username and one per client address; while either is empty, logins from there answer 429
 * with {@code Retry-After} (even with the right password, or guessing would go on). Per instance,
 * in memory, at most {@value #TRACKED} keys (the least recently used are forgotten).
 */
@Component
public class LoginThrottle {
    static final int TRACKED = 20_000;
    /** Failures per username: 5 at once, then one every 12 s (5 a minute). */
    static final int PER_USER = 5;
    /** Failures per client address: 30 at once, then 30 a minute. */
    static final int PER_ADDRESS = 30;

    private final Map<String, Bucket> buckets = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > TRACKED;
        }
    };

    /** Refuses with 429 when this username (null: none, as for Telegram) or address failed too often lately. */
    public void check(String username, String address) {
        for (Bucket b : buckets(username, address)) {
            long wait = b.estimateAbilityToConsume(1).getNanosToWaitForRefill();
            if (wait > 0) {
                throw new KilnException(ErrorCode.RATE_LIMITED, "too many failed logins; try again in "
                        + Math.max(1, Duration.ofNanos(wait).toSeconds()) + " s", List.of(), Duration.ofNanos(wait).plusSeconds(1),
                        "Wait before trying again.");
            }
        }
    }

    /** Counts a failed login against the username and the address. */
    public void failed(String username, String address) {
        for (Bucket b : buckets(username, address)) b.tryConsume(1);
    }

    private List<Bucket> buckets(String username, String address) {
        Bucket byAddress = bucket("a:" + address, PER_ADDRESS);
        return username == null ? List.of(byAddress) : List.of(bucket("u:" + norm(username), PER_USER), byAddress);
    }

    private synchronized Bucket bucket(String key, int perMinute) {
        return buckets.computeIfAbsent(key, k -> Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(perMinute).refillGreedy(perMinute, Duration.ofMinutes(1)).build())
                .build());
    }

    private static String norm(String username) {
        return username == null ? "" : username.trim().toLowerCase(java.util.Locale.ROOT);
    }
}

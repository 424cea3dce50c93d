package dev.kiln.lane;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * Submissions per minute per user ({@code KILN_USER_SUBMISSIONS_PER_MINUTE}): one Bucket4j bucket
 * per user, as many tokens as the limit, refilled evenly over a minute; a job or a run takes one.
 * An empty bucket answers 429 {@code rate_limited} with {@code Retry-After}. Per instance, in
 * memory, at most {@value #TRACKED} users (the least recently seen are forgotten). Off in local mode.
 */
@Component
public class SubmissionLimiter {
    static final int TRACKED = 50_000;

    private final int perMinute;
    private final Map<String, Bucket> buckets = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > TRACKED;
        }
    };

    SubmissionLimiter(Lanes lanes) {
        this.perMinute = lanes.userSubmissionsPerMinute();
    }

    /**
     * Takes one submission from the caller's allowance.
     *
     * @throws KilnException 429 when the caller has used it up, with how long until the next one
     */
    public void take(Caller caller) {
        if (perMinute <= 0 || caller.via() == Caller.Via.LOCAL) return;
        ConsumptionProbe p = bucket(caller.id()).tryConsumeAndReturnRemaining(1);
        if (p.isConsumed()) return;
        Duration wait = Duration.ofNanos(p.getNanosToWaitForRefill());
        long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
        throw new KilnException(ErrorCode.RATE_LIMITED, "more than " + perMinute + " submissions in a minute; the next is allowed in "
                + seconds + " s", List.of(), Duration.ofSeconds(seconds),
                "Wait " + seconds + " s before submitting again, or put more jobs in one run (a run counts as one submission).");
    }

    private synchronized Bucket bucket(String userId) {
        return buckets.computeIfAbsent(userId, k -> Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(perMinute).refillGreedy(perMinute, Duration.ofMinutes(1)).build())
                .build());
    }
}

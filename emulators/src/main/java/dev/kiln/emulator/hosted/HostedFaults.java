package dev.kiln.emulator.hosted;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Faults the Replicate and fal emulators inject on purpose, for tests. Each
 * knob arms the next {@code n} events of its kind (counted down as they happen), so a test says
 * exactly what goes wrong and when. Thread-safe; the setters chain.
 *
 * <pre>{@code
 * emulator.faults().rateLimitSubmits(3, Duration.ofSeconds(2)).failPolls(1);
 * }</pre>
 */
public final class HostedFaults {
    private final Counter submitRateLimited = new Counter();
    private final Counter submitServerError = new Counter();
    private final Counter submitMalformed = new Counter();
    private final Counter submitDropped = new Counter();
    private final Counter submitDelayed = new Counter();
    private final Counter pollServerError = new Counter();
    private final Counter pollRateLimited = new Counter();
    private final Counter pollMalformed = new Counter();
    private final Counter neverComplete = new Counter();
    private final Counter failJob = new Counter();
    private final Counter outputExpired = new Counter();
    private final Counter webhookDropped = new Counter();
    private final Counter webhookDuplicated = new Counter();
    private final Counter webhookReordered = new Counter();
    private final Counter webhookForged = new Counter();
    private final Counter requestDelayed = new Counter();
    private volatile Duration submitRetryAfter = Duration.ofSeconds(1);
    private volatile Duration pollRetryAfter = Duration.ofSeconds(1);
    private volatile String failMessage = "Prediction failed";
    private volatile boolean failRetryable;
    private volatile Duration delay = Duration.ZERO;
    private volatile Duration submitDelay = Duration.ZERO;

    public HostedFaults() {}

    /** The next {@code n} submits answer HTTP 429 with {@code Retry-After} (and Replicate's {@code retry_after}); nothing is created. */
    public HostedFaults rateLimitSubmits(int n, Duration retryAfter) {
        submitRetryAfter = retryAfter;
        submitRateLimited.set(n);
        return this;
    }

    /** The next {@code n} submits answer HTTP 500 (nothing is created). */
    public HostedFaults failSubmits(int n) {
        submitServerError.set(n);
        return this;
    }

    /** The next {@code n} submits create their job but answer 2xx with a body cut off mid-JSON. */
    public HostedFaults malformSubmitAnswers(int n) {
        submitMalformed.set(n);
        return this;
    }

    /** The next {@code n} submits create their job, then close the connection without an answer. */
    public HostedFaults dropSubmitsAfterAccepting(int n) {
        submitDropped.set(n);
        return this;
    }

    /** The next {@code n} submits create their job, then wait {@code delay} before answering (past a client's read timeout). */
    public HostedFaults delaySubmitsAfterAccepting(int n, Duration delay) {
        submitDelay = delay;
        submitDelayed.set(n);
        return this;
    }

    /** The next {@code n} status polls answer HTTP 500. */
    public HostedFaults failPolls(int n) {
        pollServerError.set(n);
        return this;
    }

    /** The next {@code n} status polls answer HTTP 429 with {@code Retry-After}. */
    public HostedFaults rateLimitPolls(int n, Duration retryAfter) {
        pollRetryAfter = retryAfter;
        pollRateLimited.set(n);
        return this;
    }

    /** The next {@code n} status polls answer 200 with a body that is not JSON. */
    public HostedFaults malformPolls(int n) {
        pollMalformed.set(n);
        return this;
    }

    /** The next {@code n} accepted jobs stay running forever (and send no completion webhook). */
    public HostedFaults neverComplete(int n) {
        neverComplete.set(n);
        return this;
    }

    /**
     * The next {@code n} accepted jobs fail with this message. {@code retryable} chooses the kind
     * of failure: a provider-side fault (Replicate "please retry", fal HTTP 500) or a model refusal
     * (fal HTTP 422).
     */
    public HostedFaults failJobs(int n, String message, boolean retryable) {
        failMessage = message;
        failRetryable = retryable;
        failJob.set(n);
        return this;
    }

    /** The next {@code n} output downloads answer 404, as expired delivery links do. */
    public HostedFaults expireOutputs(int n) {
        outputExpired.set(n);
        return this;
    }

    /** The next {@code n} webhooks due are not sent at all. */
    public HostedFaults dropWebhooks(int n) {
        webhookDropped.set(n);
        return this;
    }

    /** The next {@code n} webhooks due are delivered twice (same delivery id). */
    public HostedFaults duplicateWebhooks(int n) {
        webhookDuplicated.set(n);
        return this;
    }

    /**
     * The next {@code n} completion webhooks arrive out of order: an older, still-running state of
     * the same job is delivered after the final one (signed correctly).
     */
    public HostedFaults reorderWebhooks(int n) {
        webhookReordered.set(n);
        return this;
    }

    /** The next {@code n} webhooks due are signed with a wrong key. */
    public HostedFaults forgeWebhookSignatures(int n) {
        webhookForged.set(n);
        return this;
    }

    /** The next {@code n} requests of any kind wait {@code delay} before they are handled. */
    public HostedFaults delayRequests(int n, Duration delay) {
        this.delay = delay;
        requestDelayed.set(n);
        return this;
    }

    /** Disarms every fault. */
    public void reset() {
        for (Counter c : new Counter[] {submitRateLimited, submitServerError, submitMalformed, submitDropped, submitDelayed,
                pollServerError, pollRateLimited, pollMalformed, neverComplete, failJob, outputExpired, webhookDropped,
                webhookDuplicated, webhookReordered, webhookForged, requestDelayed}) {
            c.set(0);
        }
    }

    // What the emulators ask, each call consuming one armed event.

    public Duration takeSubmitRateLimit() { return submitRateLimited.take() ? submitRetryAfter : null; }
    public boolean takeSubmitServerError() { return submitServerError.take(); }
    public boolean takeSubmitMalformed() { return submitMalformed.take(); }
    public boolean takeSubmitDropped() { return submitDropped.take(); }
    public Duration takeSubmitDelay() { return submitDelayed.take() ? submitDelay : null; }
    public boolean takePollServerError() { return pollServerError.take(); }
    public Duration takePollRateLimit() { return pollRateLimited.take() ? pollRetryAfter : null; }
    public boolean takePollMalformed() { return pollMalformed.take(); }
    public boolean takeNeverComplete() { return neverComplete.take(); }
    public boolean takeOutputExpired() { return outputExpired.take(); }
    public boolean takeWebhookDropped() { return webhookDropped.take(); }
    public boolean takeWebhookDuplicated() { return webhookDuplicated.take(); }
    public boolean takeWebhookReordered() { return webhookReordered.take(); }
    public boolean takeWebhookForged() { return webhookForged.take(); }
    public Duration takeDelay() { return requestDelayed.take() ? delay : null; }

    /** The forced failure for the next job, or null. */
    public HostedJob.Failure takeFailure() {
        return failJob.take() ? new HostedJob.Failure(failMessage, failRetryable) : null;
    }

    private static final class Counter {
        private final AtomicInteger left = new AtomicInteger();

        void set(int n) {
            if (n < 0) throw new IllegalArgumentException("a fault count cannot be negative: " + n);
            left.set(n);
        }

        boolean take() {
            return left.getAndUpdate(v -> v > 0 ? v - 1 : 0) > 0;
        }
    }
}

package dev.kiln.emulator.wavespeed;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Faults a {@link WaveSpeedEmulator} injects on purpose, for tests. Each knob arms the next
 * {@code n} events of its kind (counted down as they happen, in arrival order), so a test says
 * exactly what goes wrong and when. Thread-safe; the setters chain.
 *
 * <pre>{@code
 * emulator.faults().rateLimitSubmits(1, Duration.ofSeconds(3)).failPolls(2);
 * }</pre>
 */
public final class WaveSpeedFaults {
    private final Counter submitRateLimited = new Counter();
    private final Counter submitServerError = new Counter();
    private final Counter submitMalformed = new Counter();
    private final Counter submitDropped = new Counter();
    private final Counter submitLost = new Counter();
    private final Counter pollServerError = new Counter();
    private final Counter pollRateLimited = new Counter();
    private final Counter neverComplete = new Counter();
    private final Counter failPrediction = new Counter();
    private final Counter outputExpired = new Counter();
    private final Counter webhookDropped = new Counter();
    private final Counter webhookDuplicated = new Counter();
    private final Counter webhookForged = new Counter();
    private final Counter requestDelayed = new Counter();
    private final Counter listServerError = new Counter();
    private final Counter directUploadMissing = new Counter();
    private volatile Duration submitRetryAfter = Duration.ofSeconds(1);
    private volatile Duration pollRetryAfter = Duration.ofSeconds(1);
    private volatile int failCode = 5000;
    private volatile String failMessage = "Internal server error";
    private volatile Duration delay = Duration.ZERO;

    WaveSpeedFaults() {}

    /** The next {@code n} submits answer HTTP 429 with {@code Retry-After} (whole seconds, rounded up); nothing is created. */
    public WaveSpeedFaults rateLimitSubmits(int n, Duration retryAfter) {
        submitRetryAfter = retryAfter;
        submitRateLimited.set(n);
        return this;
    }

    /** The next {@code n} submits answer HTTP 500; nothing is created. */
    public WaveSpeedFaults failSubmits(int n) {
        submitServerError.set(n);
        return this;
    }

    /** The next {@code n} submits create their prediction but answer HTTP 200 with a body that is not JSON. */
    public WaveSpeedFaults malformSubmitAnswers(int n) {
        submitMalformed.set(n);
        return this;
    }

    /**
     * The next {@code n} submits create their prediction (it runs and is listed) but the connection
     * is closed without an answer: the ambiguous submit a client must reconcile, not repeat.
     */
    public WaveSpeedFaults dropSubmitsAfterAccepting(int n) {
        submitDropped.set(n);
        return this;
    }

    /**
     * The next {@code n} submits are read but lost before they create anything, and the connection
     * is closed without an answer: ambiguous to the client, yet WaveSpeed never received the task.
     */
    public WaveSpeedFaults loseSubmitsBeforeAccepting(int n) {
        submitLost.set(n);
        return this;
    }

    /** The next {@code n} prediction listings ({@code POST /api/v3/predictions}) answer HTTP 500. */
    public WaveSpeedFaults failListings(int n) {
        listServerError.set(n);
        return this;
    }

    /** The next {@code n} result polls answer HTTP 500. */
    public WaveSpeedFaults failPolls(int n) {
        pollServerError.set(n);
        return this;
    }

    /** The next {@code n} result polls answer HTTP 429 with {@code Retry-After}. */
    public WaveSpeedFaults rateLimitPolls(int n, Duration retryAfter) {
        pollRetryAfter = retryAfter;
        pollRateLimited.set(n);
        return this;
    }

    /** The next {@code n} accepted predictions stay {@code processing} forever (and send no webhook). */
    public WaveSpeedFaults neverComplete(int n) {
        neverComplete.set(n);
        return this;
    }

    /**
     * The next {@code n} accepted predictions end {@code failed} with this {@code error} text,
     * whatever the fail rate says. {@code code} (1403: task execution failed, 5000: internal, ...)
     * is only remembered in the journal: failed results carry the text alone.
     */
    public WaveSpeedFaults failPredictions(int n, int code, String message) {
        failCode = code;
        failMessage = message;
        failPrediction.set(n);
        return this;
    }

    /** The next {@code n} output downloads answer 404, as expired CDN links do. */
    public WaveSpeedFaults expireOutputs(int n) {
        outputExpired.set(n);
        return this;
    }

    /** The next {@code n} webhooks due are not sent at all. */
    public WaveSpeedFaults dropWebhooks(int n) {
        webhookDropped.set(n);
        return this;
    }

    /** The next {@code n} webhooks due are delivered twice, with the same {@code webhook-id}. */
    public WaveSpeedFaults duplicateWebhooks(int n) {
        webhookDuplicated.set(n);
        return this;
    }

    /** The next {@code n} webhooks due are signed with a wrong key. */
    public WaveSpeedFaults forgeWebhookSignatures(int n) {
        webhookForged.set(n);
        return this;
    }

    /** The next {@code n} requests of any kind wait {@code delay} before they are handled. */
    public WaveSpeedFaults delayRequests(int n, Duration delay) {
        this.delay = delay;
        requestDelayed.set(n);
        return this;
    }

    /**
     * The next {@code n} direct-upload requests ({@code POST /api/v3/media/uploads}) answer 404, as a
     * deployment without that endpoint would: clients fall back to {@code /media/upload/binary}.
     */
    public WaveSpeedFaults refuseDirectUploads(int n) {
        directUploadMissing.set(n);
        return this;
    }

    /** Disarms every fault. */
    public void reset() {
        for (Counter c : new Counter[] {submitRateLimited, submitServerError, submitMalformed, submitDropped, submitLost,
                pollServerError, pollRateLimited, neverComplete, failPrediction, outputExpired, webhookDropped,
                webhookDuplicated, webhookForged, requestDelayed, listServerError, directUploadMissing}) {
            c.set(0);
        }
    }

    // What the emulator asks, each call consuming one armed event.

    Duration takeSubmitRateLimit() { return submitRateLimited.take() ? submitRetryAfter : null; }
    boolean takeSubmitServerError() { return submitServerError.take(); }
    boolean takeSubmitMalformed() { return submitMalformed.take(); }
    boolean takeSubmitDropped() { return submitDropped.take(); }
    boolean takeSubmitLost() { return submitLost.take(); }
    boolean takePollServerError() { return pollServerError.take(); }
    boolean takeListServerError() { return listServerError.take(); }
    boolean takeDirectUploadMissing() { return directUploadMissing.take(); }
    Duration takePollRateLimit() { return pollRateLimited.take() ? pollRetryAfter : null; }
    boolean takeNeverComplete() { return neverComplete.take(); }
    boolean takeOutputExpired() { return outputExpired.take(); }
    boolean takeWebhookDropped() { return webhookDropped.take(); }
    boolean takeWebhookDuplicated() { return webhookDuplicated.take(); }
    boolean takeWebhookForged() { return webhookForged.take(); }
    Duration takeDelay() { return requestDelayed.take() ? delay : null; }

    /** The forced failure for the next prediction, or null. */
    WaveSpeedPrediction.Failure takeFailure() {
        return failPrediction.take() ? new WaveSpeedPrediction.Failure(failCode, failMessage) : null;
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

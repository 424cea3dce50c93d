package dev.kiln.emulator.runpod;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Faults a {@link RunPodEmulator} injects on purpose, for tests. Each knob arms the next
 * {@code n} events of its kind; thread-safe; the setters chain.
 */
public final class RunPodFaults {
    private final AtomicInteger runRateLimited = new AtomicInteger();
    private final AtomicInteger runServerError = new AtomicInteger();
    private final AtomicInteger runMalformed = new AtomicInteger();
    private final AtomicInteger statusRateLimited = new AtomicInteger();
    private final AtomicInteger statusServerError = new AtomicInteger();
    private final AtomicInteger statusMalformed = new AtomicInteger();
    private final AtomicInteger neverComplete = new AtomicInteger();
    private final AtomicInteger jobFailure = new AtomicInteger();
    private final AtomicInteger requestDelayed = new AtomicInteger();
    private final AtomicInteger webhookDropped = new AtomicInteger();
    private final AtomicInteger webhookDuplicated = new AtomicInteger();
    private final AtomicInteger webhookOutOfOrder = new AtomicInteger();
    private volatile Duration retryAfter;
    private volatile Duration delay = Duration.ZERO;
    private volatile String failure = "ComfyUI server (127.0.0.1:8188) not reachable after multiple retries.";

    RunPodFaults() {}

    /** The next {@code n} {@code /run} answer 429 (with {@code Retry-After} when given, RunPod's own use of it being unconfirmed); nothing is queued. */
    public RunPodFaults rateLimitRuns(int n, Duration retryAfter) {
        this.retryAfter = retryAfter;
        runRateLimited.set(n);
        return this;
    }

    /** The next {@code n} {@code /run} answer 500; nothing is queued. */
    public RunPodFaults failRuns(int n) {
        runServerError.set(n);
        return this;
    }

    /** The next {@code n} {@code /run} queue the job but answer 200 with a body that is not JSON. */
    public RunPodFaults malformRunAnswers(int n) {
        runMalformed.set(n);
        return this;
    }

    /** The next {@code n} {@code /status} answer 429. */
    public RunPodFaults rateLimitStatus(int n) {
        statusRateLimited.set(n);
        return this;
    }

    /** The next {@code n} {@code /status} answer 502. */
    public RunPodFaults failStatus(int n) {
        statusServerError.set(n);
        return this;
    }

    /** The next {@code n} {@code /status} answer 200 with a body that is not JSON. */
    public RunPodFaults malformStatus(int n) {
        statusMalformed.set(n);
        return this;
    }

    /** The next {@code n} queued jobs stay {@code IN_PROGRESS} until cancelled or timed out by their policy. */
    public RunPodFaults neverComplete(int n) {
        neverComplete.set(n);
        return this;
    }

    /** The next {@code n} queued jobs end {@code FAILED} with this worker error string. */
    public RunPodFaults failJobs(int n, String error) {
        failure = error;
        jobFailure.set(n);
        return this;
    }

    /** The next {@code n} HTTP requests of any kind wait {@code delay} before they are handled. */
    public RunPodFaults delayRequests(int n, Duration delay) {
        this.delay = delay;
        requestDelayed.set(n);
        return this;
    }

    /** The next {@code n} webhooks due are not sent at all. */
    public RunPodFaults dropWebhooks(int n) {
        webhookDropped.set(n);
        return this;
    }

    /** The next {@code n} webhooks due are delivered twice. */
    public RunPodFaults duplicateWebhooks(int n) {
        webhookDuplicated.set(n);
        return this;
    }

    /** The next {@code n} webhooks due are followed by a stale one saying {@code IN_PROGRESS}. */
    public RunPodFaults outOfOrderWebhooks(int n) {
        webhookOutOfOrder.set(n);
        return this;
    }

    /** Disarms every fault. */
    public void reset() {
        for (AtomicInteger c : new AtomicInteger[] {runRateLimited, runServerError, runMalformed, statusRateLimited, statusServerError,
                statusMalformed, neverComplete, jobFailure, requestDelayed, webhookDropped, webhookDuplicated, webhookOutOfOrder}) {
            c.set(0);
        }
    }

    Duration retryAfter() { return retryAfter; }
    boolean takeRunRateLimited() { return take(runRateLimited); }
    boolean takeRunServerError() { return take(runServerError); }
    boolean takeRunMalformed() { return take(runMalformed); }
    boolean takeStatusRateLimited() { return take(statusRateLimited); }
    boolean takeStatusServerError() { return take(statusServerError); }
    boolean takeStatusMalformed() { return take(statusMalformed); }
    boolean takeNeverComplete() { return take(neverComplete); }
    String takeJobFailure() { return take(jobFailure) ? failure : null; }
    Duration takeDelay() { return take(requestDelayed) ? delay : null; }
    boolean takeWebhookDropped() { return take(webhookDropped); }
    boolean takeWebhookDuplicated() { return take(webhookDuplicated); }
    boolean takeWebhookOutOfOrder() { return take(webhookOutOfOrder); }

    private static boolean take(AtomicInteger c) {
        return c.getAndUpdate(v -> v > 0 ? v - 1 : 0) > 0;
    }
}

package dev.kiln.emulator.comfyui;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Faults a {@link ComfyUiEmulator} injects on purpose, for tests. Each knob arms the next
 * {@code n} events of its kind; thread-safe; the setters chain.
 */
public final class ComfyUiFaults {
    private final AtomicInteger promptRateLimited = new AtomicInteger();
    private final AtomicInteger promptServerError = new AtomicInteger();
    private final AtomicInteger promptMalformed = new AtomicInteger();
    private final AtomicInteger historyServerError = new AtomicInteger();
    private final AtomicInteger objectInfoServerError = new AtomicInteger();
    private final AtomicInteger neverComplete = new AtomicInteger();
    private final AtomicInteger executionFailure = new AtomicInteger();
    private final AtomicInteger requestDelayed = new AtomicInteger();
    private volatile Duration retryAfter = Duration.ofSeconds(1);
    private volatile Duration delay = Duration.ZERO;
    private volatile String failMessage = "Allocation on device 0 would exceed allowed memory. (out of memory)";
    private volatile boolean websocketRefused;

    ComfyUiFaults() {}

    /** The next {@code n} {@code POST /prompt} answer 429 with {@code Retry-After} (as a proxy in front of ComfyUI would); nothing is queued. */
    public ComfyUiFaults rateLimitPrompts(int n, Duration retryAfter) {
        this.retryAfter = retryAfter;
        promptRateLimited.set(n);
        return this;
    }

    /** The next {@code n} {@code POST /prompt} answer 500; nothing is queued. */
    public ComfyUiFaults failPrompts(int n) {
        promptServerError.set(n);
        return this;
    }

    /** The next {@code n} {@code POST /prompt} queue the prompt but answer 200 with a body that is not JSON. */
    public ComfyUiFaults malformPromptAnswers(int n) {
        promptMalformed.set(n);
        return this;
    }

    /** The next {@code n} {@code GET /history/...} answer 500. */
    public ComfyUiFaults failHistory(int n) {
        historyServerError.set(n);
        return this;
    }

    /** The next {@code n} {@code GET /object_info} answer 500 (a node pack whose INPUT_TYPES raises breaks it on some versions). */
    public ComfyUiFaults failObjectInfo(int n) {
        objectInfoServerError.set(n);
        return this;
    }

    /** The next {@code n} queued prompts start and then hang in their sampler until interrupted. */
    public ComfyUiFaults neverComplete(int n) {
        neverComplete.set(n);
        return this;
    }

    /** The next {@code n} queued prompts fail in their first sampler (or output node) with this exception message. */
    public ComfyUiFaults failExecutions(int n, String message) {
        failMessage = message;
        executionFailure.set(n);
        return this;
    }

    /** The next {@code n} HTTP requests of any kind wait {@code delay} before they are handled. */
    public ComfyUiFaults delayRequests(int n, Duration delay) {
        this.delay = delay;
        requestDelayed.set(n);
        return this;
    }

    /** While set, websocket handshakes on {@code /ws} are refused (clients must fall back to polling). */
    public ComfyUiFaults refuseWebsockets(boolean refuse) {
        websocketRefused = refuse;
        return this;
    }

    /** Disarms every fault. */
    public void reset() {
        for (AtomicInteger c : new AtomicInteger[] {promptRateLimited, promptServerError, promptMalformed, historyServerError, objectInfoServerError,
                neverComplete, executionFailure, requestDelayed}) {
            c.set(0);
        }
        websocketRefused = false;
    }

    Duration takePromptRateLimit() { return take(promptRateLimited) ? retryAfter : null; }
    boolean takePromptServerError() { return take(promptServerError); }
    boolean takePromptMalformed() { return take(promptMalformed); }
    boolean takeHistoryServerError() { return take(historyServerError); }
    boolean takeObjectInfoServerError() { return take(objectInfoServerError); }
    boolean takeNeverComplete() { return take(neverComplete); }
    String takeExecutionFailure() { return take(executionFailure) ? failMessage : null; }
    Duration takeDelay() { return take(requestDelayed) ? delay : null; }
    boolean websocketRefused() { return websocketRefused; }

    private static boolean take(AtomicInteger c) {
        return c.getAndUpdate(v -> v > 0 ? v - 1 : 0) > 0;
    }
}

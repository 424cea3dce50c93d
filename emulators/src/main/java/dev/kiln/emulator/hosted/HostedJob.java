package dev.kiln.emulator.hosted;

import dev.kiln.emulator.render.SandboxRenderer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import tools.jackson.databind.node.ObjectNode;

/**
 * One job of the Replicate or fal emulators. Like WaveSpeed's, its state is
 * a function of time: queued for the first quarter of its latency, then running, then finished
 * (or failed); nothing has to tick it forward.
 */
public final class HostedJob {
    /** Queued, running, finished or stopped. */
    public enum Phase { QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED }

    /** A forced failure: its message, and whether it is the provider's fault (worth a retry). */
    public record Failure(String message, boolean retryable) {}

    /** What to render, taken from the request. */
    public record Spec(String prompt, long seed, int width, int height, int count, String format, boolean list) {}

    public final String id;
    public final String model;
    public final String version;
    public final ObjectNode input;
    public final Spec spec;
    public final String webhook;
    public final Instant createdAt;
    public final long createdNanos;
    private final long startNanos;
    private final long readyNanos;
    public final Failure failure;
    private final boolean neverCompletes;
    private volatile long canceledAtNanos;
    private volatile boolean canceled;

    public HostedJob(String id, String model, String version, ObjectNode input, Spec spec, String webhook,
                     long latencyNanos, Failure failure, boolean neverCompletes) {
        this.id = id;
        this.model = model;
        this.version = version;
        this.input = input;
        this.spec = spec;
        this.webhook = webhook;
        this.createdAt = Instant.now();
        this.createdNanos = System.nanoTime();
        this.startNanos = createdNanos + latencyNanos / 4;
        this.readyNanos = createdNanos + latencyNanos;
        this.failure = failure;
        this.neverCompletes = neverCompletes;
    }

    public Phase phase() {
        if (canceled) return Phase.CANCELED;
        long now = System.nanoTime();
        if (neverCompletes || now - readyNanos < 0) return now - startNanos < 0 ? Phase.QUEUED : Phase.RUNNING;
        return failure != null ? Phase.FAILED : Phase.SUCCEEDED;
    }

    public boolean terminal() {
        Phase p = phase();
        return p != Phase.QUEUED && p != Phase.RUNNING;
    }

    /** Nanoseconds until it starts running (0 if it has). */
    public long nanosUntilStart() {
        return Math.max(0, startNanos - System.nanoTime());
    }

    /** Nanoseconds until it finishes, or -1 if it never will. */
    public long nanosUntilReady() {
        if (neverCompletes || canceled) return -1;
        return Math.max(0, readyNanos - System.nanoTime());
    }

    /** When it started running, or null. */
    public Instant startedAt() {
        return System.nanoTime() - startNanos < 0 && !canceled ? null : createdAt.plusNanos(startNanos - createdNanos);
    }

    /** When it finished, or null. */
    public Instant completedAt() {
        if (canceled) return createdAt.plusNanos(canceledAtNanos - createdNanos);
        return terminal() ? createdAt.plusNanos(readyNanos - createdNanos) : null;
    }

    /** Seconds of work done, for metrics. */
    public double predictSeconds() {
        return Duration.ofNanos(Math.max(0, readyNanos - startNanos)).toMillis() / 1000.0;
    }

    /** Stops a queued or running job; a finished one keeps its result. Returns whether it was still going. */
    public synchronized boolean cancel() {
        if (terminal()) return false;
        canceledAtNanos = System.nanoTime();
        canceled = true;
        return true;
    }

    public String outputName(int i) {
        return i + "." + SandboxRenderer.extension(spec.format());
    }

    public int outputIndex(String name) {
        for (int i = 0; i < spec.count(); i++) if (outputName(i).equals(name)) return i;
        return -1;
    }

    /** A short hash standing for an input in the prompt a hosted emulator renders, so different inputs give different outputs. */
    public static String digest(String s) {
        return digest(s.getBytes(StandardCharsets.UTF_8));
    }

    public static String digest(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b), 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

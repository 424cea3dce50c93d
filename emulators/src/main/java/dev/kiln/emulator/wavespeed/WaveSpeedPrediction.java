package dev.kiln.emulator.wavespeed;

import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.emulator.render.SandboxVideoRenderer;
import dev.kiln.emulator.support.Json;
import java.time.Instant;
import java.util.function.IntFunction;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One emulated WaveSpeed task. Its state is a function of time: created, then processing, then
 * completed or failed once {@code readyAtNanos} has passed. Nothing has to tick it forward, which
 * keeps the emulator cheap at hundreds of tasks per second.
 */
final class WaveSpeedPrediction {
    static final String CREATED = "created";
    static final String PROCESSING = "processing";
    static final String COMPLETED = "completed";
    static final String FAILED = "failed";
    static final String CANCELLED = "cancelled";

    /**
     * Why a task fails. WaveSpeed's failed results carry only the {@code error} text (docs/PROVIDERS.md,
     * "WaveSpeed"); {@code code} is the emulator's own record of the error code a test asked for (kept in
     * the journal), never sent.
     */
    record Failure(int code, String message) {}

    /**
     * What to render: the generation parameters taken from the request. {@code frames} and
     * {@code fps} are 0 for images; a video's format is mp4, webm or gif.
     */
    record Spec(String prompt, long seed, int width, int height, int count, String format, boolean base64, int frames, int fps) {
        Spec(String prompt, long seed, int width, int height, int count, String format, boolean base64) {
            this(prompt, seed, width, height, count, format, base64, 0, 0);
        }

        boolean video() {
            return frames > 0;
        }

        String mimeType() {
            return video() ? SandboxVideoRenderer.mimeType(format) : SandboxRenderer.mimeType(format);
        }

        String extension() {
            return video() ? SandboxVideoRenderer.normalize(format) : SandboxRenderer.extension(format);
        }

        byte[] render(int index) {
            return video()
                    ? SandboxVideoRenderer.render(format, width, height, frames, fps, prompt, seed + index)
                    : SandboxRenderer.render(prompt, seed + index, width, height, format);
        }
    }

    final String id;
    final String model;
    final ObjectNode input;
    final Spec spec;
    final String webhook;
    final Instant createdAt;
    private final long createdNanos;
    private final long processingAtNanos;
    private final long readyAtNanos;
    private final Failure failure;
    private final boolean neverCompletes;
    private volatile boolean cancelled;

    WaveSpeedPrediction(String id, String model, ObjectNode input, Spec spec, String webhook,
                        long latencyNanos, Failure failure, boolean neverCompletes) {
        this(id, model, input, spec, webhook, Instant.now(), latencyNanos, failure, neverCompletes);
    }

    /** A task created at {@code createdAt} (possibly by an earlier process, read back from the journal). */
    WaveSpeedPrediction(String id, String model, ObjectNode input, Spec spec, String webhook, Instant createdAt,
                        long latencyNanos, Failure failure, boolean neverCompletes) {
        this.id = id;
        this.model = model;
        this.input = input;
        this.spec = spec;
        this.webhook = webhook;
        this.createdAt = createdAt;
        this.createdNanos = System.nanoTime() - java.time.Duration.between(createdAt, Instant.now()).toNanos();
        this.processingAtNanos = createdNanos + latencyNanos / 4;
        this.readyAtNanos = createdNanos + latencyNanos;
        this.failure = failure;
        this.neverCompletes = neverCompletes;
    }

    String status() {
        if (cancelled) return CANCELLED;
        long now = System.nanoTime();
        if (neverCompletes || now - readyAtNanos < 0) return now - processingAtNanos < 0 ? CREATED : PROCESSING;
        return failure != null ? FAILED : COMPLETED;
    }

    boolean terminal() {
        String s = status();
        return !s.equals(CREATED) && !s.equals(PROCESSING);
    }

    /** Nanoseconds until the task finishes, or -1 if it never will. */
    long nanosUntilReady() {
        if (neverCompletes || cancelled) return -1;
        return Math.max(0, readyAtNanos - System.nanoTime());
    }

    /** Stops a running task for good; a finished one keeps its result. Returns whether it was running. */
    synchronized boolean cancel() {
        if (terminal()) return false;
        cancelled = true;
        return true;
    }

    /**
     * The prediction object of the v3 API (submit, result, list item and webhook body), with the
     * fields WaveSpeed documents for it: {@code id, model, outputs, urls.get, has_nsfw_contents,
     * status, created_at, error, timings, executionTime}. Only the webhook body also carries the
     * {@code input} (wavespeed.ai/docs/how-to-use-webhooks); results and list items do not
     * (wavespeed.ai/docs/shared/api-result, wavespeed.ai/docs/predictions-api).
     *
     * @param outputs the output for index i: a URL, or naked base64 in base64 mode
     * @param asSubmitted answer as at creation: an async submit always says {@code created}, even
     *     for a task that is already done
     * @param withInput whether to include {@code input} (the webhook body)
     */
    ObjectNode toJson(String baseUrl, IntFunction<String> outputs, boolean asSubmitted, boolean withInput) {
        String status = asSubmitted ? CREATED : status();
        ObjectNode o = Json.object();
        o.put("id", id);
        o.put("model", model);
        if (withInput) o.set("input", input);
        ArrayNode out = o.putArray("outputs");
        ArrayNode nsfw = Json.object().arrayNode();
        if (status.equals(COMPLETED)) {
            for (int i = 0; i < spec.count(); i++) {
                out.add(outputs.apply(i));
                nsfw.add(false);
            }
        }
        o.putObject("urls").put("get", baseUrl + "/api/v3/predictions/" + id + "/result");
        o.set("has_nsfw_contents", nsfw);
        o.put("status", status);
        o.put("created_at", createdAt.toString());
        boolean finished = status.equals(COMPLETED) || status.equals(FAILED);
        long ms = finished ? Math.max(0, (readyAtNanos - createdNanos) / 1_000_000) : 0;
        if (status.equals(FAILED)) {
            o.put("error", failure.message());
        } else if (status.equals(CANCELLED)) {
            o.put("error", "task cancelled");
        } else {
            o.put("error", "");
        }
        ObjectNode timings = o.putObject("timings");
        if (finished) timings.put("inference", ms);
        o.put("executionTime", ms);
        return o;
    }

    /** The file name of output {@code i}, as served under {@code /outputs/{id}/}. */
    String outputName(int i) {
        return i + "." + spec.extension();
    }

    /** The index of the output with this file name, or -1. */
    int outputIndex(String name) {
        for (int i = 0; i < spec.count(); i++) if (outputName(i).equals(name)) return i;
        return -1;
    }
}

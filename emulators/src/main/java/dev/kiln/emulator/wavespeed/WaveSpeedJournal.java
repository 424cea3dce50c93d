package dev.kiln.emulator.wavespeed;

import dev.kiln.emulator.support.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The emulator's tasks on disk, one JSON line each (and a line per cancel), so that a Kiln
 * restarted in sandbox mode finds the tasks its jobs were following, as it would at a real
 * provider. A line is appended before the submit is answered; the file is compacted at start-up.
 *
 * <p>The journal only helps: a line that cannot be read is skipped, a file that cannot be read or
 * written leaves the emulator running without it (tasks are then forgotten at the next restart, as
 * the other emulators forget theirs), and a failed append never fails the submit that caused it.
 * Each append opens the file anew, so a journal that failed (disk full, file replaced) works again
 * as soon as the file does; a line cut short by the failure is ended before the next one.
 */
final class WaveSpeedJournal implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WaveSpeedJournal.class.getName());
    private static final byte[] NEWLINE = {'\n'};

    private final Path file;
    private boolean failing;
    private boolean closed;

    /** A task as remembered. */
    record Entry(String id, String model, ObjectNode input, WaveSpeedPrediction.Spec spec, String webhook, Instant createdAt,
                 Duration latency, WaveSpeedPrediction.Failure failure, boolean never, boolean cancelled) {}

    private WaveSpeedJournal(Path file) {
        this.file = file;
    }

    /**
     * Reads what the file remembers (the newest {@code keep} tasks, skipping lines it cannot read),
     * rewrites it compactly and opens it for appending. A file that cannot be read is left alone:
     * the emulator then starts empty and keeps trying to append to it.
     */
    static WaveSpeedJournal open(Path file, int keep, List<Entry> into) {
        WaveSpeedJournal journal = new WaveSpeedJournal(file);
        List<Entry> kept;
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            kept = read(file, keep);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read the sandbox journal " + file
                    + "; the WaveSpeed emulator starts without the tasks it remembers: " + e);
            journal.failing = true;
            return journal;
        }
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (Entry e : kept) {
                    w.write(Json.write(write(e)));
                    w.newLine();
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            // Not compacted: the file keeps its old lines, which read the same next time.
            LOG.log(System.Logger.Level.WARNING, "cannot compact the sandbox journal " + file + ": " + e);
        }
        into.addAll(kept);
        return journal;
    }

    private static List<Entry> read(Path file, int keep) throws IOException {
        Map<String, Entry> tasks = new LinkedHashMap<>();
        int skipped = 0;
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                try {
                    JsonNode n = Json.parse(line);
                    String id = n.path("id").asString(null);
                    if (id == null) throw new IllegalArgumentException("no id");
                    if (n.path("cancelled").asBoolean(false) && !n.has("model")) {
                        Entry e = tasks.get(id);
                        if (e != null) tasks.put(id, withCancelled(e));
                    } else {
                        tasks.put(id, read(n));
                    }
                } catch (RuntimeException e) {
                    skipped++; // a line cut short by a crash, or not written by this emulator
                }
            }
        }
        if (skipped > 0) LOG.log(System.Logger.Level.WARNING, "skipped " + skipped + " unreadable line(s) of the sandbox journal " + file);
        List<Entry> all = new ArrayList<>(tasks.values());
        return new ArrayList<>(all.subList(Math.max(0, all.size() - keep), all.size()));
    }

    synchronized void created(Entry e) {
        append(write(e));
    }

    synchronized void cancelled(String id) {
        ObjectNode n = Json.object();
        n.put("id", id);
        n.put("cancelled", true);
        append(n);
    }

    /** Whether the last append failed (the tasks since then will not outlive a restart). */
    synchronized boolean failing() {
        return failing;
    }

    private void append(ObjectNode n) {
        if (closed) return;
        byte[] line = (Json.write(n) + "\n").getBytes(StandardCharsets.UTF_8);
        // Into the OS, not to the disk: this guards against the process dying, like Kiln's own data.
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            if (failing) out.write(NEWLINE); // ends a line a failed append may have cut short
            out.write(line);
            if (failing) LOG.log(System.Logger.Level.INFO, "the sandbox journal " + file + " is writable again");
            failing = false;
        } catch (IOException | RuntimeException e) {
            if (!failing) {
                LOG.log(System.Logger.Level.WARNING, "cannot write the sandbox journal " + file
                        + "; tasks created meanwhile will not outlive a restart: " + e);
            }
            failing = true;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    private static Entry withCancelled(Entry e) {
        return new Entry(e.id(), e.model(), e.input(), e.spec(), e.webhook(), e.createdAt(), e.latency(), e.failure(), e.never(), true);
    }

    private static ObjectNode write(Entry e) {
        ObjectNode n = Json.object();
        n.put("id", e.id());
        n.put("model", e.model());
        n.set("input", e.input());
        ObjectNode s = n.putObject("spec");
        s.put("prompt", e.spec().prompt());
        s.put("seed", e.spec().seed());
        s.put("width", e.spec().width());
        s.put("height", e.spec().height());
        s.put("count", e.spec().count());
        s.put("format", e.spec().format());
        s.put("base64", e.spec().base64());
        if (e.spec().video()) {
            s.put("frames", e.spec().frames());
            s.put("fps", e.spec().fps());
        }
        n.put("webhook", e.webhook());
        n.put("created", e.createdAt().toEpochMilli());
        n.put("latency_ms", e.latency().toMillis());
        if (e.failure() != null) n.putObject("failure").put("code", e.failure().code()).put("message", e.failure().message());
        n.put("never", e.never());
        n.put("cancelled", e.cancelled());
        return n;
    }

    /** One task line; throws when the line lacks what a task needs, so that it is skipped rather than served broken. */
    private static Entry read(JsonNode n) {
        JsonNode s = n.path("spec");
        if (!(n.get("input") instanceof ObjectNode input) || !n.path("model").isString() || n.path("model").asString().isBlank()
                || !s.isObject() || !n.path("created").isIntegralNumber()) {
            throw new IllegalArgumentException("not a task line");
        }
        int width = s.path("width").asInt(), height = s.path("height").asInt(), count = s.path("count").asInt(1);
        if (width < 1 || height < 1 || width > 16_384 || height > 16_384 || count < 1 || count > 15) {
            throw new IllegalArgumentException("not a renderable task");
        }
        WaveSpeedPrediction.Spec spec = new WaveSpeedPrediction.Spec(s.path("prompt").asString(""), s.path("seed").asLong(),
                width, height, count, s.path("format").asString("png"),
                s.path("base64").asBoolean(false), s.path("frames").asInt(0), s.path("fps").asInt(0));
        JsonNode f = n.get("failure");
        return new Entry(n.path("id").asString(), n.path("model").asString(), input, spec,
                n.path("webhook").asString(null), Instant.ofEpochMilli(n.path("created").asLong()),
                Duration.ofMillis(Math.max(0, n.path("latency_ms").asLong())),
                f == null || f.isNull() ? null : new WaveSpeedPrediction.Failure(f.path("code").asInt(), f.path("message").asString()),
                n.path("never").asBoolean(false), n.path("cancelled").asBoolean(false));
    }
}

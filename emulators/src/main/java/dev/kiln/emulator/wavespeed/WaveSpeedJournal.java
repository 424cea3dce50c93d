package dev.kiln.emulator.wavespeed;

import dev.kiln.emulator.support.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * provider. A line is written before the submit is answered; the file is compacted at start-up.
 */
final class WaveSpeedJournal implements AutoCloseable {
    private final Path file;
    private final BufferedWriter out;

    /** A task as remembered. */
    record Entry(String id, String model, ObjectNode input, WaveSpeedPrediction.Spec spec, String webhook, Instant createdAt,
                 Duration latency, WaveSpeedPrediction.Failure failure, boolean never, boolean cancelled) {}

    private WaveSpeedJournal(Path file) throws IOException {
        this.file = file;
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Reads what the file remembers (the newest {@code keep} tasks), rewrites it compactly and opens it for appending. */
    static WaveSpeedJournal open(Path file, int keep, List<Entry> into) {
        try {
            Files.createDirectories(file.getParent());
            Map<String, Entry> tasks = new LinkedHashMap<>();
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) continue;
                    JsonNode n;
                    try {
                        n = Json.parse(line);
                    } catch (RuntimeException e) {
                        continue; // a line cut short by a crash
                    }
                    String id = n.path("id").asString(null);
                    if (id == null) continue;
                    if (n.path("cancelled").asBoolean(false) && !n.has("model")) {
                        Entry e = tasks.get(id);
                        if (e != null) tasks.put(id, withCancelled(e));
                    } else {
                        tasks.put(id, read(n));
                    }
                }
            }
            List<Entry> all = new ArrayList<>(tasks.values());
            List<Entry> kept = all.subList(Math.max(0, all.size() - keep), all.size());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (Entry e : kept) {
                    w.write(Json.write(write(e)));
                    w.newLine();
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            into.addAll(kept);
            return new WaveSpeedJournal(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use the sandbox journal " + file, e);
        }
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

    private void append(ObjectNode n) {
        try {
            out.write(Json.write(n));
            out.newLine();
            // Into the OS, not to the disk: this guards against the process dying, like Kiln's own data.
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the sandbox journal " + file, e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException ignored) {
            // Closing after a failed write: nothing more to save.
        }
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

    private static Entry read(JsonNode n) {
        JsonNode s = n.path("spec");
        WaveSpeedPrediction.Spec spec = new WaveSpeedPrediction.Spec(s.path("prompt").asString(""), s.path("seed").asLong(),
                s.path("width").asInt(), s.path("height").asInt(), s.path("count").asInt(1), s.path("format").asString("png"),
                s.path("base64").asBoolean(false), s.path("frames").asInt(0), s.path("fps").asInt(0));
        JsonNode f = n.get("failure");
        return new Entry(n.path("id").asString(), n.path("model").asString(), (ObjectNode) n.path("input"), spec,
                n.path("webhook").asString(null), Instant.ofEpochMilli(n.path("created").asLong()),
                Duration.ofMillis(n.path("latency_ms").asLong()),
                f == null || f.isNull() ? null : new WaveSpeedPrediction.Failure(f.path("code").asInt(), f.path("message").asString()),
                n.path("never").asBoolean(false), n.path("cancelled").asBoolean(false));
    }
}

package dev.kiln.cli;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The record of a batch in its output folder: {@code manifest.json} (read back by
 * {@code --resume}) and {@code manifest.csv} (for spreadsheets), one entry per job with its run,
 * prompt, parameters, seed, files, status and error. Both are rewritten whole through a temporary
 * file and an atomic rename, so an interrupted CLI never leaves half a manifest.
 */
final class Manifest {
    static final String JSON_FILE = "manifest.json";
    static final String CSV_FILE = "manifest.csv";
    static final List<String> CSV_COLUMNS = List.of("position", "line", "run_id", "job_id", "status", "prompt", "negative_prompt",
            "seed", "params", "grid_cell", "file", "size", "sha256", "error_code", "error_message");

    record FileEntry(String file, long size, String sha256, String mime, Integer width, Integer height) {}

    record Entry(int position, Integer line, String runId, String jobId, String status, String prompt, String negativePrompt,
                 Long seed, JsonNode params, JsonNode gridCell, List<FileEntry> files, String errorCode, String errorMessage) {
        Entry {
            files = files == null ? List.of() : List.copyOf(files);
        }

        Entry withFiles(List<FileEntry> f) {
            return new Entry(position, line, runId, jobId, status, prompt, negativePrompt, seed, params, gridCell, f, errorCode, errorMessage);
        }

        Entry withError(String code, String message) {
            return new Entry(position, line, runId, jobId, status, prompt, negativePrompt, seed, params, gridCell, files, code, message);
        }
    }

    /** The JSON file's shape. */
    record Document(String server, String model, String source, List<String> runs, Instant updatedAt,
                    Map<String, Integer> counts, List<Entry> jobs) {}

    private final Path dir;
    private String server;
    private String model;
    private String source;
    private final List<String> runs = new ArrayList<>();
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private boolean dirty;

    Manifest(Path dir, String server, String model, String source) {
        this.dir = dir;
        this.server = server;
        this.model = model;
        this.source = source;
    }

    /** The manifest in {@code dir}, or null when there is none. */
    static Manifest load(Path dir) {
        Path f = dir.resolve(JSON_FILE);
        if (!Files.isRegularFile(f)) return null;
        Document d;
        try {
            d = Wire.JSON.readValue(f.toFile(), Document.class);
        } catch (JacksonException e) {
            throw CliException.usage(f + " is not a manifest this CLI wrote (" + e.getOriginalMessage() + "); move it away or choose another --out");
        }
        Manifest m = new Manifest(dir, d.server(), d.model(), d.source());
        if (d.runs() != null) m.runs.addAll(d.runs());
        if (d.jobs() != null) d.jobs().forEach(e -> m.entries.put(e.jobId(), e));
        return m;
    }

    Path dir() {
        return dir;
    }

    synchronized String server() {
        return server;
    }

    synchronized String model() {
        return model;
    }

    synchronized List<String> runs() {
        return List.copyOf(runs);
    }

    synchronized void server(String s) {
        server = s;
        dirty = true;
    }

    synchronized void addRun(String runId, String runModel) {
        if (!runs.contains(runId)) runs.add(runId);
        if (model == null) model = runModel;
        dirty = true;
    }

    /** Records a job's latest state, keeping what is already known of its line and files. */
    synchronized void job(Wire.Job j, int position, Integer line) {
        Entry old = entries.get(j.id());
        Integer l = line != null ? line : old == null ? null : old.line();
        List<FileEntry> files = old == null ? List.of() : old.files();
        String code = j.error() == null ? null : j.error().code();
        String message = j.error() == null ? null : j.error().message();
        if (code == null && old != null && "download_failed".equals(old.errorCode())) {
            code = old.errorCode();
            message = old.errorMessage();
        }
        entries.put(j.id(), new Entry(position, l, j.runId(), j.id(), j.status(), j.prompt(), j.negativePrompt(), j.seed(),
                j.params(), j.gridCell(), files, code, message));
        dirty = true;
    }

    synchronized Entry entry(String jobId) {
        return entries.get(jobId);
    }

    /** The file name an earlier session chose for this output, if any. */
    synchronized String knownFile(String jobId, int index) {
        Entry e = entries.get(jobId);
        return e == null || e.files().size() <= index ? null : e.files().get(index).file();
    }

    synchronized void files(String jobId, List<FileEntry> files) {
        Entry e = entries.get(jobId);
        if (e == null) return;
        Entry updated = e.withFiles(files);
        if ("download_failed".equals(e.errorCode())) updated = updated.withError(null, null);
        entries.put(jobId, updated);
        dirty = true;
    }

    synchronized void downloadFailed(String jobId, String message) {
        Entry e = entries.get(jobId);
        if (e == null) return;
        entries.put(jobId, e.withError("download_failed", message));
        dirty = true;
    }

    synchronized List<Entry> entries() {
        return entries.values().stream().sorted(Comparator.comparingInt(Entry::position)).toList();
    }

    /** Writes both files if anything changed since the last write. */
    synchronized void flush() {
        if (dirty) write();
    }

    synchronized void write() {
        List<Entry> sorted = entries();
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String s : List.of("queued", "running", "succeeded", "failed", "canceled", "timed_out")) counts.put(s, 0);
        sorted.forEach(e -> counts.merge(e.status(), 1, Integer::sum));
        Document d = new Document(server, model, source, List.copyOf(runs), Instant.now(), counts, sorted);
        try {
            Files.createDirectories(dir);
            atomicWrite(dir.resolve(JSON_FILE), Wire.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(d));
            atomicWrite(dir.resolve(CSV_FILE), csv(sorted));
        } catch (IOException e) {
            throw new CliException(Exit.USAGE, "cannot write the manifest in " + dir + ": " + e.getMessage());
        }
        dirty = false;
    }

    static String csv(List<Entry> entries) {
        StringWriter out = new StringWriter();
        CSVFormat format = CSVFormat.DEFAULT.builder().setHeader(CSV_COLUMNS.toArray(String[]::new)).get();
        try (CSVPrinter p = new CSVPrinter(out, format)) {
            for (Entry e : entries) {
                List<String> files = e.files().stream().map(FileEntry::file).toList();
                p.printRecord(e.position(), e.line() == null ? "" : e.line(), e.runId(), e.jobId(), e.status(), e.prompt(),
                        e.negativePrompt() == null ? "" : e.negativePrompt(), e.seed() == null ? "" : e.seed(),
                        e.params() == null ? "" : Wire.JSON.writeValueAsString(e.params()),
                        e.gridCell() == null || e.gridCell().isNull() ? "" : Wire.JSON.writeValueAsString(e.gridCell()),
                        String.join(";", files),
                        String.join(";", e.files().stream().map(f -> String.valueOf(f.size())).toList()),
                        String.join(";", e.files().stream().map(FileEntry::sha256).map(s -> s == null ? "" : s).toList()),
                        e.errorCode() == null ? "" : e.errorCode(), e.errorMessage() == null ? "" : e.errorMessage());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void atomicWrite(Path target, String content) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}

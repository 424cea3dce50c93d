package dev.kiln.archive.airtable;

import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.config.KilnProperties;
import dev.kiln.job.Job;
import dev.kiln.job.JobEvent;
import dev.kiln.job.JobStatus;
import dev.kiln.job.JobsQueued;
import dev.kiln.provider.InputImage;
import dev.kiln.run.Run;
import dev.kiln.run.RunService;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Archives every run (whichever API submitted it) in an Airtable table, as the WaveSpeed batch
 * generator does: one parent record per run in its 15-field schema (Prompt, Subject, References,
 * Output, Output URL, Model, Size, Request IDs, Seen IDs, Failed IDs, Status, Run ID, Created At,
 * Last Update, Completed At), created at submission and updated as the run's jobs finish. On when
 * {@link AirtableSettings} finds a token, a base and a table.
 *
 * <p>An Airtable outage never touches a generation: nothing here runs in a job's transaction.
 * Each run has a row in the {@code airtable_archive} outbox ({@link ArchiveStore}); a small loop
 * of its own writes what changed, ten records per request, within Airtable's rate
 * ({@link AirtableClient}), and retries a failed write with a growing pause (1 s doubling up to
 * {@value #MAX_BACKOFF_SECONDS} s), so after an outage the backlog catches up by itself. The record
 * is rewritten from the run's current state each time, so writes that were missed or repeated
 * change nothing in the end.
 *
 * <p>Images: with {@code PUBLIC_BASE_URL}, attachments are signed, expiring links to Kiln's assets
 * (valid 24 hours, ample for Airtable to fetch and re-host them); without it, Kiln sends the files
 * through Airtable's upload-attachment endpoint (files up to 5 MB).
 */
@Component
public class AirtableArchive {
    private static final Logger log = LoggerFactory.getLogger(AirtableArchive.class);
    static final int MAX_BACKOFF_SECONDS = 60;
    /** A run still going is rewritten at least this often, in case a change was missed (a restart between a job's commit and its event). */
    static final Duration RECHECK = Duration.ofSeconds(30);
    static final Duration POLL = Duration.ofSeconds(1);
    static final Duration DISCOVERY_WINDOW = Duration.ofHours(1);
    static final long MAX_UPLOAD = 5L * 1024 * 1024;

    private final AirtableSettings settings;
    private final AirtableClient client;
    private final ArchiveStore store;
    private final RunService runs;
    private final AssetService assets;
    private final Catalog catalog;
    private final Clock clock;
    private final boolean linksOnly;
    private final Object signal = new Object();
    private volatile boolean woken;
    private volatile boolean running;
    private Thread loop;
    private Instant since;

    AirtableArchive(Environment env, ArchiveStore store, RunService runs, AssetService assets, Catalog catalog, KilnProperties props,
                    JsonMapper json, Clock clock) {
        this.settings = AirtableSettings.from(env, Path.of(".env"));
        this.client = new AirtableClient(settings, json);
        this.store = store;
        this.runs = runs;
        this.assets = assets;
        this.catalog = catalog;
        this.clock = clock;
        this.linksOnly = props.webhookBase() != null;
    }

    /** Whether Airtable is configured. */
    public boolean enabled() {
        return settings.enabled();
    }

    @EventListener(ApplicationReadyEvent.class)
    void start() {
        if (!enabled()) return;
        since = store.newestArchivedRun().orElse(clock.instant().minusSeconds(1));
        running = true;
        loop = Thread.ofVirtual().name("kiln-airtable-archive").start(this::loop);
        log.info("archiving runs in Airtable ({}), attachments {}", settings, linksOnly ? "as signed links on PUBLIC_BASE_URL"
                : "uploaded (no PUBLIC_BASE_URL)");
    }

    @PreDestroy
    void stop() {
        running = false;
        if (loop != null) loop.interrupt();
    }

    /**
     * The Airtable record of a run, waiting up to {@code wait} for the archive to create it (the
     * batch generator's {@code parentId}); empty without Airtable, or when Airtable did not answer in
     * time (the record is then created later).
     */
    public Optional<String> recordIdFor(String runId, Duration wait) {
        if (!enabled() || !running) return Optional.empty();
        wake();
        long end = System.nanoTime() + wait.toNanos();
        while (true) {
            Optional<String> id = store.find(runId).map(ArchiveStore.Row::recordId);
            if (id.isPresent() || System.nanoTime() >= end) return id;
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
    }

    /** What is waiting to be written, for the admin API. */
    public record Backlog(boolean enabled, String base, String table, String attachments, int pending, int withoutRecord, int failing,
                          int archived, Instant oldestPending, String lastError, Instant pausedUntil, long requests, long rateLimited) {}

    public Backlog backlog() {
        if (!enabled()) return new Backlog(false, null, null, null, 0, 0, 0, 0, null, null, null, 0, 0);
        ArchiveStore.Backlog b = store.backlog();
        long paused = client.pausedUntil();
        long[] counts = client.counts();
        return new Backlog(true, settings.baseId(), settings.table(), linksOnly ? "signed links" : "upload", b.pending(), b.withoutRecord(),
                b.failing(), b.archived(), b.oldestPending(), b.lastError(), paused == 0 ? null : Instant.ofEpochMilli(paused),
                counts[0], counts[1]);
    }

    @TransactionalEventListener
    void onJobEvent(JobEvent e) {
        if (!running || !e.statusChanged() || e.job().runId() == null) return;
        store.touch(e.job().runId(), clock.instant());
        wake();
    }

    @TransactionalEventListener
    void onJobsQueued(JobsQueued e) {
        if (running) wake();
    }

    private void wake() {
        synchronized (signal) {
            woken = true;
            signal.notifyAll();
        }
    }

    private void loop() {
        while (running) {
            try {
                syncOnce();
                synchronized (signal) {
                    if (!woken) signal.wait(POLL.toMillis());
                    woken = false;
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("the Airtable archive loop failed; it goes on: {}", e.toString());
                try {
                    Thread.sleep(POLL);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Writes everything due once (the loop's step); returns how many runs were written. */
    int syncOnce() throws InterruptedException {
        if (client.pausedUntil() > 0) return 0;
        Instant now = clock.instant();
        // Runs are inserted seconds after they are timed, so an hour back is ample; older ones were found before.
        Instant from = now.minus(DISCOVERY_WINDOW);
        store.discover(since.isAfter(from) ? since : from, now);
        int written = 0;
        for (int round = 0; round < 50; round++) {
            List<ArchiveStore.Row> due = store.claimDue(now, now.plusSeconds(300), AirtableClient.MAX_RECORDS);
            if (due.isEmpty()) break;
            written += sync(due);
            if (client.pausedUntil() > 0) break;
            now = clock.instant();
        }
        return written;
    }

    /** The record of a run as it is now, and what writing it will have achieved. */
    private final class Snapshot {
        final ArchiveStore.Row row;
        final Run run;
        final List<Job> jobs;
        final List<Asset> outputs = new ArrayList<>();
        final List<Asset> inputs = new ArrayList<>();
        final boolean finished;
        final String status;
        String recordId;
        final Set<String> uploaded;
        String outputUrl;
        String outputUrlWritten;

        Snapshot(ArchiveStore.Row row, Run run) {
            this.row = row;
            this.run = run;
            this.jobs = runs.jobsOf(run);
            this.recordId = row.recordId();
            this.uploaded = new LinkedHashSet<>(row.uploaded());
            this.outputUrl = row.outputUrl();
            int succeeded = 0, ended = 0;
            List<String> done = new ArrayList<>();
            for (Job j : jobs) {
                if (j.status().terminal()) ended++;
                if (j.status() == JobStatus.SUCCEEDED) {
                    succeeded++;
                    done.add(j.id());
                }
            }
            this.finished = ended == jobs.size() && jobs.size() >= run.total();
            this.status = !finished ? "processing" : succeeded == 0 ? "failed" : "completed";
            Map<String, List<Asset>> outs = done.isEmpty() ? Map.of() : assets.outputsOf(done);
            for (String id : done) outputs.addAll(outs.getOrDefault(id, List.of()));
            if (!jobs.isEmpty()) {
                for (JsonNode ids : jobs.getFirst().inputs()) {
                    for (JsonNode id : ids) assets.find(id.asString()).ifPresent(inputs::add);
                }
            }
        }

        Map<String, Object> fields(boolean creating) {
            Map<String, Object> f = new LinkedHashMap<>();
            String prompt = run.request().path("prompt").asString(jobs.isEmpty() ? "" : jobs.getFirst().prompt());
            if (creating) {
                f.put("Prompt", prompt);
                f.put("Run ID", run.id());
                f.put("Model", catalog.find(run.model()).map(Model::name).orElse(run.model()));
                f.put("Created At", run.createdAt().toString());
            }
            String size = size();
            if (size != null) f.put("Size", size);
            List<String> requestIds = new ArrayList<>(), seen = new ArrayList<>(), failed = new ArrayList<>();
            for (Job j : jobs) {
                String name = j.remoteId() != null ? j.remoteId() : j.id();
                if (j.remoteId() != null) requestIds.add(j.remoteId());
                if (j.status().terminal()) seen.add(name);
                if (j.status().terminal() && j.status() != JobStatus.SUCCEEDED) failed.add(name);
            }
            f.put("Request IDs", String.join(",", requestIds));
            f.put("Seen IDs", String.join(",", seen));
            f.put("Failed IDs", String.join(",", failed));
            f.put("Status", status);
            f.put("Last Update", clock.instant().toString());
            if (finished) {
                Instant end = jobs.stream().map(Job::finishedAt).filter(java.util.Objects::nonNull).max(Instant::compareTo).orElse(clock.instant());
                f.put("Completed At", end.toString());
            }
            if (linksOnly) {
                if (creating && !inputs.isEmpty()) {
                    f.put("Subject", List.of(link(inputs.getFirst(), run.id() + "_subject")));
                    if (inputs.size() > 1) {
                        List<Map<String, String>> refs = new ArrayList<>();
                        for (int i = 1; i < inputs.size(); i++) refs.add(link(inputs.get(i), run.id() + "_reference_" + i));
                        f.put("References", refs);
                    }
                }
                if (outputs.size() != row.outputsSent() || creating && !outputs.isEmpty()) {
                    List<Map<String, String>> out = new ArrayList<>();
                    for (int i = 0; i < outputs.size(); i++) out.add(link(outputs.get(i), run.id() + "_" + (i + 1)));
                    f.put("Output", out);
                    if (!out.isEmpty()) f.put("Output URL", out.getFirst().get("url"));
                }
            } else if (outputUrl != null) {
                f.put("Output URL", outputUrl);
                outputUrlWritten = outputUrl;
            }
            if (!linksOnly && outputUrl == null) outputUrlWritten = null;
            return f;
        }

        private String size() {
            if (run.request().hasNonNull("size")) return run.request().get("size").asString();
            if (jobs.isEmpty()) return null;
            JsonNode p = jobs.getFirst().params();
            if (p.hasNonNull("width") && p.hasNonNull("height")) return p.get("width").asLong() + "x" + p.get("height").asLong();
            return null;
        }

        private Map<String, String> link(Asset a, String name) {
            InputImage img = assets.toInputImage(a);
            return Map.of("url", img.publicUrl(), "filename", name + "." + img.fileName().replaceAll(".*\\.", ""));
        }

        /** Sends the files Airtable does not have yet (no public URL); one request each. */
        void upload() throws AirtableException, InterruptedException {
            List<Asset> subject = inputs.isEmpty() ? List.of() : List.of(inputs.getFirst());
            List<Asset> refs = inputs.size() > 1 ? inputs.subList(1, inputs.size()) : List.of();
            sendFiles("Subject", subject, "subject");
            sendFiles("References", refs, "reference");
            sendFiles("Output", outputs, "output");
        }

        private void sendFiles(String field, List<Asset> files, String name) throws AirtableException, InterruptedException {
            int i = 0;
            for (Asset a : files) {
                i++;
                if (uploaded.contains(a.id())) continue;
                if (a.size() > MAX_UPLOAD) {
                    // Over Airtable's 5 MB upload limit: left out, and said so once.
                    log.warn("[Airtable] {} of run {} is {} bytes, over Airtable's 5 MB upload limit; set PUBLIC_BASE_URL to archive it by link",
                            field, run.id(), a.size());
                    uploaded.add(a.id());
                    continue;
                }
                InputImage img = assets.toInputImage(a);
                byte[] bytes;
                try {
                    bytes = img.bytes();
                } catch (IOException e) {
                    throw new AirtableException(0, null, "could not read " + a.id() + " from Kiln's storage");
                }
                String url = client.upload(recordId, field, a.mime(), bytes, run.id() + "_" + name + "_" + i + "." + img.fileName().replaceAll(".*\\.", ""));
                uploaded.add(a.id());
                if (field.equals("Output") && outputUrl == null) outputUrl = url;
                store.progress(run.id(), recordId, uploaded, outputUrl);
            }
        }

        /** Whether everything about the run is in Airtable now. */
        boolean complete() {
            if (!finished) return false;
            if (linksOnly) return true;
            for (Asset a : inputs) if (!uploaded.contains(a.id())) return false;
            for (Asset a : outputs) if (!uploaded.contains(a.id())) return false;
            return java.util.Objects.equals(outputUrl, outputUrlWritten);
        }
    }

    private int sync(List<ArchiveStore.Row> rows) throws InterruptedException {
        List<Snapshot> snaps = new ArrayList<>();
        for (ArchiveStore.Row r : rows) {
            Optional<Run> run = runs.find(r.runId());
            if (run.isEmpty()) {
                store.delete(r.runId());
                continue;
            }
            snaps.add(new Snapshot(r, run.get()));
        }
        List<Snapshot> creating = snaps.stream().filter(s -> s.recordId == null).toList();
        List<Snapshot> updating = snaps.stream().filter(s -> s.recordId != null).toList();
        List<Snapshot> written = new ArrayList<>();
        if (!creating.isEmpty()) {
            try {
                List<String> ids = client.create(creating.stream().map(s -> new AirtableClient.Write(null, s.fields(true))).toList());
                for (int i = 0; i < ids.size(); i++) {
                    Snapshot s = creating.get(i);
                    s.recordId = ids.get(i);
                    store.progress(s.run.id(), s.recordId, s.uploaded, s.outputUrl);
                    log.info("[Airtable] Created parent record: {} (run {})", s.recordId, s.run.id());
                    written.add(s);
                }
            } catch (AirtableException e) {
                creating.forEach(s -> failed(s, e));
            }
        }
        if (!updating.isEmpty()) {
            try {
                client.update(updating.stream().map(s -> new AirtableClient.Write(s.recordId, s.fields(false))).toList());
                for (Snapshot s : updating) {
                    log.debug("[Airtable] Record {} updated (run {}, {})", s.recordId, s.run.id(), s.status);
                    written.add(s);
                }
            } catch (AirtableException e) {
                updating.forEach(s -> failed(s, e));
            }
        }
        int n = 0;
        for (Snapshot s : written) {
            if (!linksOnly) {
                try {
                    s.upload();
                } catch (AirtableException e) {
                    failed(s, e);
                    continue;
                }
            }
            Instant now = clock.instant();
            boolean complete = s.complete();
            // More to write at once (an Output URL learnt from an upload), or a look again later while the run goes on.
            Instant next = complete ? now : !s.finished && java.util.Objects.equals(s.outputUrl, s.outputUrlWritten) ? now.plus(RECHECK) : now;
            store.saved(s.run.id(), s.recordId, s.status, complete, s.outputs.size(), s.uploaded, s.outputUrl, next, now);
            if (complete) log.info("[Airtable] Record {} updated: run {} {}", s.recordId, s.run.id(), s.status);
            n++;
        }
        return n;
    }

    private void failed(Snapshot s, AirtableException e) {
        Instant now = clock.instant();
        if (e.status() == 429) {
            // Airtable asked for a pause; the client keeps it, and the row is tried again after it.
            store.release(s.run.id(), now.plus(settings.rateLimitWait()));
            log.info("[Airtable] rate limited; waiting {} s", settings.rateLimitWait().toSeconds());
            return;
        }
        int attempts = s.row.attempts() + 1;
        long backoff = Math.min(MAX_BACKOFF_SECONDS, 1L << Math.min(attempts - 1, 10));
        store.failed(s.run.id(), attempts, e.toString(), now.plusSeconds(backoff));
        if (attempts == 1 || attempts % 10 == 0) {
            log.warn("[Airtable] writing run {} failed ({} attempts; next in {} s): {}", s.run.id(), attempts, backoff, e);
        }
    }
}

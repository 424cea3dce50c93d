package dev.kiln.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code kiln batch}: submits a prompts file as one or more runs, follows them live (events, with
 * polling as the fallback) under a progress bar, saves every output as it finishes with a
 * manifest, and exits with a code that says whether everything succeeded. Ctrl-C detaches and
 * leaves the runs going; {@code --resume} re-attaches and saves only what is missing.
 */
@Command(name = "batch", sortOptions = false, mixinStandardHelpOptions = true,
        description = {
                "Submit a prompts file, follow it live, and save the outputs with a manifest.",
                "",
                "FILE is .txt (one prompt per line), .csv (a 'prompt' column, optional 'negative_prompt', "
                        + "other columns are parameters) or .jsonl ({\"prompt\", \"negative_prompt\", \"params\"} per line). "
                        + "Outputs are saved as they finish, with manifest.json and manifest.csv.",
                "A file larger than one run may hold (the server's KILN_MAX_RUN_JOBS, default 1000) is split into several runs; "
                        + "so are rows whose own parameters differ.",
                "Ctrl-C detaches: the runs go on; re-attach with --resume (files already saved are checked and skipped)."},
        footer = {"", "Examples:",
                "  kiln batch prompts.txt --model sandbox-image --count 2 --param width=768",
                "  kiln batch shots.csv --model flux-schnell --grid seed=1,2,3 --out shots/",
                "  kiln batch --resume run_01JB8Z3N5V7W9X  (or --resume DIR)", "", Exit.HELP})
final class BatchCommand implements Callable<Integer> {
    private static final Pattern SERVER_LIMIT = Pattern.compile("at most (\\d+) are allowed \\(KILN_MAX_RUN_JOBS\\)");

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "Prompts file (.txt, .csv, .jsonl; '-' reads standard input as text).")
    String file;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL", description = "Model id (see: kiln models).")
    String model;

    @Option(names = "--mode", paramLabel = "MODE", description = "Mode of the model (txt2img, img2img, t2v, ...); default: the model's first.")
    String mode;

    @Option(names = {"-n", "--count"}, paramLabel = "N", defaultValue = "1", description = "Copies per prompt (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = {"-p", "--param"}, paramLabel = "NAME=VALUE", description = "A parameter for every prompt (repeatable); typed by the model's schema.")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = {"-g", "--grid"}, paramLabel = "NAME=V1,V2", description = "A grid axis (repeatable): every prompt runs once per combination.")
    Map<String, String> grid = new LinkedHashMap<>();

    @Option(names = "--negative-prompt", paramLabel = "TEXT", description = "Negative prompt for rows that have none.")
    String negativePrompt;

    @Option(names = "--image", paramLabel = "NAME=REF", description = "An input image (repeatable): an https URL, asset:<id>, or a local file (uploaded).")
    List<String> images = new ArrayList<>();

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Folder for outputs and manifest (default: ./<first run id>).")
    Path out;

    @Option(names = "--format", paramLabel = "FORMAT", description = "txt, csv or jsonl (default: from the file name).")
    PromptFile.Format format;

    @Option(names = "--run-size", paramLabel = "N", defaultValue = "1000",
            description = "Most jobs per run (default: ${DEFAULT-VALUE}, the server's default KILN_MAX_RUN_JOBS; a lower server limit is detected).")
    int runSize;

    @Option(names = "--resume", paramLabel = "RUN|DIR", description = "Re-attach to runs (ids, comma-separated) or to the batch whose manifest is in DIR.")
    String resume;

    @Option(names = "--downloads", paramLabel = "N", defaultValue = "4", description = "Parallel downloads (default: ${DEFAULT-VALUE}).")
    int downloads;

    @Mixin
    ServerOptions server;

    @Spec
    CommandSpec spec;

    private PrintWriter err;
    private PrintWriter out2;
    private final Map<String, Integer> lines = new ConcurrentHashMap<>();
    private final Object endLock = new Object();
    private boolean ended;
    private final Thread hook = new Thread(this::detach, "kiln-detach");
    private Tracker tracker;
    private Follower follower;
    private Manifest manifest;
    private Downloader downloader;
    private ProgressView progress;
    private Api api;
    private int plannedRuns;
    private String defaultOutFor;

    @Override
    public Integer call() throws Exception {
        err = spec.commandLine().getErr();
        out2 = spec.commandLine().getOut();
        if (count < 1) throw CliException.usage("--count must be at least 1");
        if (runSize < 1) throw CliException.usage("--run-size must be at least 1");
        if (downloads < 1 || downloads > 32) throw CliException.usage("--downloads must be between 1 and 32");
        if (resume != null) {
            if (file != null) throw CliException.usage("give a prompts file or --resume, not both");
            List<String> extra = new ArrayList<>();
            if (model != null) extra.add("--model");
            if (mode != null) extra.add("--mode");
            if (!params.isEmpty()) extra.add("--param");
            if (!grid.isEmpty()) extra.add("--grid");
            if (!images.isEmpty()) extra.add("--image");
            if (count != 1) extra.add("--count");
            if (!extra.isEmpty()) throw CliException.usage(String.join(", ", extra) + " cannot change runs already submitted; --resume takes only --out and --url");
        } else {
            if (file == null) throw CliException.usage("give a prompts file (.txt, .csv or .jsonl), or --resume RUN to re-attach; see: " + KilnCli.self() + " batch --help");
            if (model == null) throw CliException.usage("--model is required (" + KilnCli.self() + " models lists them)");
        }
        try {
            return resume != null ? resume() : submit();
        } finally {
            // Any way out but Ctrl-C (which the hook handles): stop following and keep the manifest.
            end();
        }
    }

    // ---- a new batch ------------------------------------------------------------------------

    private int submit() throws InterruptedException {
        List<PromptFile.Row> rows = PromptFile.read(file, format);
        if (out != null) refuseExistingBatch(out);
        api = server.api();
        Wire.Model schema = api.get("/v1/models/" + Api.query(model), Wire.Model.class);
        Map<String, List<String>> imageRefs = images();
        List<BatchPlan.RunSpec> plan = BatchPlan.plan(rows, options(imageRefs, runSize), schema);

        start();
        int refusedExit = 0;
        for (int i = 0; i < plan.size(); i++) {
            BatchPlan.RunSpec s = plan.get(i);
            Wire.Run run;
            try {
                run = submitOne(s);
            } catch (CliException.Refused e) {
                Integer limit = serverLimit(e);
                if (i == 0 && limit != null && limit < runSize) {
                    // The server allows fewer jobs per run than assumed: nothing was created, so split again.
                    err.println("kiln: the server allows at most " + limit + " jobs per run (KILN_MAX_RUN_JOBS); splitting the batch accordingly");
                    runSize = limit;
                    plan = BatchPlan.plan(rows, options(imageRefs, limit), schema);
                    i = -1;
                    continue;
                }
                if (tracker.runs().isEmpty()) throw new CliException.Refused("the server refused the batch", e.status(), e.problem());
                err.println("kiln: run " + (i + 1) + " of " + plan.size() + " was refused; the " + tracker.runs().size()
                        + " accepted run(s) go on:\n  " + e.problem().describe().replace("\n", "\n  "));
                refusedExit = Exit.REFUSED;
                break;
            }
            plannedRuns = plan.size();
            if (manifest == null) {
                openOutput(run.id());
                downloader.total(plan.stream().mapToInt(BatchPlan.RunSpec::jobs).sum());
            }
            for (int k = 0; k < run.jobs().size(); k++) {
                int p = k / Math.max(1, s.jobsPerPrompt());
                if (run.jobs().size() == s.jobs() && p < s.lines().size()) lines.put(run.jobs().get(k).id(), s.lines().get(p));
            }
            follow(run);
            err.println("kiln: submitted " + run.id() + " (" + run.total() + (run.total() == 1 ? " job" : " jobs") + (plan.size() > 1 ? ", run " + (i + 1) + " of " + plan.size() : "") + ")");
        }
        int code = followToEnd();
        return refusedExit != 0 && code != Exit.INTERRUPTED ? refusedExit : code;
    }

    private BatchPlan.Options options(Map<String, List<String>> imageRefs, int size) {
        return new BatchPlan.Options(model, mode, count, params, grid, negativePrompt, imageRefs, size);
    }

    /** Submits one run; a lost answer is retried with the same idempotency key, so it never creates a second run. */
    private Wire.Run submitOne(BatchPlan.RunSpec s) throws InterruptedException {
        String key = "kiln-cli-" + UUID.randomUUID();
        long backoff = 1000;
        Instant start = Instant.now();
        while (true) {
            try {
                return api.post("/v1/runs", s.body(), key, Wire.Run.class);
            } catch (CliException.Unreachable e) {
                if (Duration.between(start, Instant.now()).compareTo(Duration.ofMinutes(1)) > 0) throw e;
                err.println("kiln: " + e.getMessage().lines().findFirst().orElse("") + "; retrying");
            } catch (CliException.Refused e) {
                boolean busy = e.status() == 503 || e.status() == 429;
                if (!busy || Duration.between(start, Instant.now()).compareTo(Duration.ofMinutes(5)) > 0) throw e;
                err.println("kiln: the server is busy (" + e.code() + "); retrying");
            }
            Thread.sleep(backoff);
            backoff = Math.min(15_000, backoff * 2);
        }
    }

    static Integer serverLimit(CliException.Refused e) {
        if (e.status() != 422) return null;
        for (Problem.FieldError f : e.errors()) {
            Matcher m = SERVER_LIMIT.matcher(f.message() == null ? "" : f.message());
            if (m.find()) return Integer.parseInt(m.group(1));
        }
        return null;
    }

    private Map<String, List<String>> images() {
        Map<String, List<String>> refs = new LinkedHashMap<>();
        for (String spec : images) {
            int eq = spec.indexOf('=');
            if (eq <= 0 || eq == spec.length() - 1) throw CliException.usage("--image takes NAME=REF (e.g. reference=photo.png), got '" + spec + "'");
            String name = spec.substring(0, eq);
            String ref = spec.substring(eq + 1);
            if (!ref.matches("(?i)(https?://|data:|asset:).*")) {
                Path p = Path.of(ref);
                if (!Files.isRegularFile(p)) throw CliException.usage("--image " + name + ": no such file: " + ref + " (give an https URL, asset:<id> or a file)");
                ref = "asset:" + api.upload(p);
            }
            refs.computeIfAbsent(name, k -> new ArrayList<>()).add(ref);
        }
        return refs;
    }

    private void refuseExistingBatch(Path dir) {
        if (Files.isRegularFile(dir.resolve(Manifest.JSON_FILE))) {
            throw CliException.usage(dir + " already holds a batch (manifest.json); re-attach with --resume " + dir + ", or choose another --out");
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw CliException.usage("--out " + dir + " is a file, not a folder");
    }

    private void openOutput(String firstRun) {
        Path dir = out;
        if (dir == null) {
            dir = Path.of(firstRun);
            defaultOutFor = firstRun;
            refuseExistingBatch(dir);
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw CliException.usage("cannot create " + dir + ": " + e.getMessage());
        }
        manifest = new Manifest(dir, api.base(), model, file);
        downloader = new Downloader(api, manifest, downloads, tracker::poke);
    }

    // ---- re-attaching -----------------------------------------------------------------------

    private int resume() throws InterruptedException {
        Path dir;
        Manifest existing;
        List<String> runIds = new ArrayList<>();
        Path asDir = Path.of(resume);
        if (Files.isDirectory(asDir)) {
            existing = Manifest.load(asDir);
            if (existing == null) throw CliException.usage(resume + " holds no manifest.json; give the run id(s) to re-attach to");
            if (out != null && !out.toAbsolutePath().normalize().equals(asDir.toAbsolutePath().normalize())) {
                throw CliException.usage("--resume " + resume + " re-attaches to the batch in that folder; --out cannot move it elsewhere");
            }
            dir = asDir;
            runIds.addAll(existing.runs());
        } else {
            List<String> given = List.of(resume.split(",")).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
            for (String id : given) {
                if (!id.matches("[A-Za-z0-9_-]+")) throw CliException.usage("--resume takes run ids (run_...) or a folder with a manifest; '" + id + "' is neither");
            }
            if (given.isEmpty()) throw CliException.usage("--resume needs a run id or a folder");
            dir = out != null ? out : Path.of(given.getFirst());
            if (out == null) defaultOutFor = given.getFirst();
            existing = Manifest.load(dir);
            if (existing != null) runIds.addAll(existing.runs());
            given.forEach(id -> {
                if (!runIds.contains(id)) runIds.add(id);
            });
        }
        if (runIds.isEmpty()) throw CliException.usage(dir + "/manifest.json lists no runs: that batch was interrupted before any run was accepted");
        if (existing != null && existing.server() != null && server.explicitUrl() == null) api = server.api(existing.server());
        else api = server.api();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw CliException.usage("cannot create " + dir + ": " + e.getMessage());
        }
        manifest = existing != null ? existing : new Manifest(dir, api.base(), null, null);
        manifest.server(api.base());
        plannedRuns = runIds.size();
        List<Wire.Run> found = new ArrayList<>();
        for (String id : runIds) {
            try {
                found.add(api.get("/v1/runs/" + Api.query(id), Wire.Run.class));
            } catch (CliException.Refused e) {
                if (e.status() == 404) throw new CliException(Exit.REFUSED, "no run " + id + " on " + api.base() + " (" + e.problem().describe() + ")");
                throw e;
            }
        }
        start();
        downloader = new Downloader(api, manifest, downloads, tracker::poke);
        downloader.total(found.stream().mapToInt(r -> r.jobs().size()).sum());
        found.forEach(this::follow);
        Tracker.Counts c = tracker.counts();
        err.println("kiln: re-attached to " + (runIds.size() == 1 ? runIds.getFirst() : runIds.size() + " runs") + " (" + c.total() + " jobs: "
                + c.succeeded() + " done, " + c.unsuccessful() + " failed, " + (c.running() + c.queued()) + " to go)");
        return followToEnd();
    }

    // ---- following --------------------------------------------------------------------------

    private void start() {
        tracker = new Tracker(new Tracker.Listener() {
            @Override
            public void changed(Wire.Job job, int position) {
                if (manifest != null) manifest.job(job, position, lines.get(job.id()));
            }

            @Override
            public void succeeded(Wire.Job job, int position) {
                downloader.submit(job, position);
            }
        });
        follower = new Follower(api, tracker);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Adds a run to follow: its jobs now, its events from here on. */
    private void follow(Wire.Run run) {
        manifest.addRun(run.id(), run.model());
        follower.add(run);
        manifest.flush();
    }

    private int followToEnd() throws InterruptedException {
        err.println("kiln: following " + (tracker.runs().size() == 1 ? "1 run" : tracker.runs().size() + " runs") + " on " + api.base()
                + "; saving to " + manifest.dir() + " (Ctrl-C detaches; the runs go on)");
        progress = new ProgressView(tracker.total(), ProgressView.interactive(), System.err, () -> tracker.estimateBeforeFirstFinish(Instant.now()));
        progress.update(tracker.counts(), downloader.stats(), null);
        long lastFlush = 0;
        while (true) {
            long v = tracker.version();
            if (tracker.allFinished() && downloader.idle()) break;
            tracker.awaitChange(v, Duration.ofMillis(250));
            String note;
            try {
                note = follower.refresh();
            } catch (CliException.Unreachable e) {
                end();
                throw new CliException(Exit.UNREACHABLE, e.getMessage() + "\n  The runs may still be going; " + resumeHint());
            }
            progress.update(tracker.counts(), downloader.stats(), note);
            long now = System.nanoTime();
            if (now - lastFlush > 1_000_000_000L) {
                manifest.flush();
                lastFlush = now;
            }
        }
        progress.update(tracker.counts(), downloader.stats(), null);
        if (!end()) return Exit.INTERRUPTED;
        return summary();
    }

    /** Stops following (streams, progress bar, downloads) and writes the manifest; false if a detach got there first. */
    private boolean end() {
        synchronized (endLock) {
            if (ended) return false;
            ended = true;
        }
        try {
            if (tracker != null) Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already exiting; the hook sees ended and does nothing
        }
        if (follower != null) follower.close();
        if (progress != null) progress.close();
        if (downloader != null) downloader.shutdownNow();
        if (manifest != null) manifest.write();
        return true;
    }

    /** Ctrl-C (the JVM's shutdown): leave the runs going, save what is known, and say how to come back. */
    private void detach() {
        synchronized (endLock) {
            if (ended) return;
            ended = true;
        }
        if (follower != null) follower.close();
        if (progress != null) progress.close();
        if (downloader != null) downloader.shutdownNow();
        try {
            if (manifest != null) manifest.write();
        } catch (RuntimeException e) {
            err.println("kiln: could not write the manifest: " + e.getMessage());
        }
        List<String> runs = tracker == null ? List.of() : tracker.runs();
        if (runs.isEmpty()) {
            err.println("kiln: interrupted before any run was accepted; nothing was submitted"
                    + " (a submission in flight may still have been accepted: check " + KilnCli.self() + " status or the web UI)");
        } else {
            Tracker.Counts c = tracker.counts();
            StringBuilder b = new StringBuilder("\nkiln: interrupted. ");
            b.append(runs.size() == 1 ? "The run keeps" : "The " + runs.size() + " runs keep").append(" going on the server (")
                    .append(c.finished()).append(" of ").append(c.total()).append(" jobs finished, ")
                    .append(downloader == null ? 0 : downloader.stats().saved() + downloader.stats().kept()).append(" files saved).");
            if (plannedRuns > runs.size()) b.append("\n  Only ").append(runs.size()).append(" of ").append(plannedRuns).append(" runs were submitted.");
            b.append("\n  ").append(resumeHint());
            b.append("\n  Check on it:  ").append(KilnCli.self()).append(" status ").append(String.join(" ", runs));
            err.println(b);
        }
        err.flush();
    }

    private String resumeHint() {
        List<String> runs = tracker.runs();
        String target = runs.size() == 1 && runs.getFirst().equals(defaultOutFor) ? runs.getFirst() : manifest.dir().toString();
        return "Re-attach and save the rest:  " + KilnCli.self() + " batch --resume " + target;
    }

    private int summary() {
        Tracker.Counts c = tracker.counts();
        Downloader.Stats d = downloader.stats();
        List<String> runs = tracker.runs();
        StringBuilder b = new StringBuilder();
        b.append(runs.size() == 1 ? runs.getFirst() : runs.size() + " runs (" + String.join(", ", runs) + ")").append(": ")
                .append(c.total()).append(" jobs, ").append(c.succeeded()).append(" succeeded");
        if (c.failed() > 0) b.append(", ").append(c.failed()).append(" failed");
        if (c.canceled() > 0) b.append(", ").append(c.canceled()).append(" canceled");
        if (c.timedOut() > 0) b.append(", ").append(c.timedOut()).append(" timed out");
        b.append("\nsaved ").append(d.saved()).append(d.saved() == 1 ? " file" : " files");
        if (d.kept() > 0) b.append(", kept ").append(d.kept()).append(" already there (size and SHA-256 match),");
        b.append(" in ").append(manifest.dir()).append(" with ").append(Manifest.JSON_FILE).append(" and ").append(Manifest.CSV_FILE);
        if (d.failed() > 0) b.append("\n").append(d.failed()).append(d.failed() == 1 ? " job's outputs" : " jobs' outputs")
                .append(" could not be saved (download_failed in the manifest); re-attach later to try again");
        List<Manifest.Entry> bad = manifest.entries().stream().filter(e -> !"succeeded".equals(e.status()) || e.errorCode() != null).toList();
        if (!bad.isEmpty()) {
            b.append("\nnot succeeded:");
            bad.stream().limit(10).forEach(e -> b.append("\n  #").append(e.position()).append(' ').append(e.jobId()).append(' ')
                    .append(e.status()).append(e.errorCode() == null ? "" : " " + e.errorCode() + ": " + e.errorMessage())
                    .append("  (").append(Table.shorten(e.prompt(), 40)).append(')'));
            if (bad.size() > 10) b.append("\n  … and ").append(bad.size() - 10).append(" more in ").append(Manifest.CSV_FILE);
        }
        out2.println(b);
        out2.flush();
        return Exit.of(c.succeeded(), c.total(), d.failed() == 0);
    }
}

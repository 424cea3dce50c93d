import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kiln's benchmark (issue 2, item 9). Run with JDK 25's single-file launcher, no build step:
 * {@code java bench/Bench.java server/target/kiln.jar [--jfr DIR] [--repeat N]} (bench/run.sh does it).
 *
 * <p>It starts Kiln in sandbox mode from the jar on a free port with a fresh data dir, twice
 * (sandbox latency is a start-up setting), and measures:
 * <ol>
 *   <li>makespan of a 100-job run at KILN_SANDBOX_LATENCY=2s, divided by 2 s (goal ≤ 1.10);
 *   <li>jobs per second of a 2,000-job run at zero latency, 256×256 (goal ≥ 300);
 *   <li>p50/p99 of GET /v1/jobs/{id} from 32 concurrent clients while a 1,000-job run is being
 *       worked (goal p99 ≤ 20 ms);
 *   <li>the RSS of the Kiln process after the runs.
 * </ol>
 * Timings are medians of {@code --repeat} runs (default 3). Only JDK classes: the JSON it needs is
 * read with regular expressions.
 */
public class Bench {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .executor(Executors.newVirtualThreadPerTaskExecutor()).connectTimeout(Duration.ofSeconds(5)).build();

    static final List<String> FAILURES = new java.util.concurrent.CopyOnWriteArrayList<>();

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args.length > 0 ? args[0] : "server/target/kiln.jar");
        Path jfr = null;
        int repeat = 3;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--jfr")) jfr = Path.of(args[++i]);
            else if (args[i].equals("--repeat")) repeat = Integer.parseInt(args[++i]);
        }
        if (!Files.isRegularFile(jar)) throw new IllegalArgumentException("no jar at " + jar + " (run ./kiln build)");
        List<String[]> rows = new ArrayList<>();

        // (a) makespan at 2 s latency
        double[] ratios = new double[repeat];
        try (Kiln k = Kiln.start(jar, Map.of("KILN_SANDBOX_LATENCY", "2s"), null)) {
            runSeconds(k, 100, 256, "makespan warm-up"); // a cold JVM runs the first batch in interpreted code
            for (int i = 0; i < repeat; i++) {
                double s = runSeconds(k, 100, 256, "makespan " + i);
                ratios[i] = s / 2.0;
                System.err.printf(Locale.ROOT, "  100 jobs at 2 s latency: %.2f s%n", s);
            }
        }
        double ratio = median(ratios);
        rows.add(row("makespan / latency, 100 jobs at 2 s", fmt(ratio, 2), "<= 1.10", ratio <= 1.10));

        // (b) throughput, (c) GET latency, (d) RSS: one Kiln at zero latency
        try (Kiln k = Kiln.start(jar, Map.of("KILN_SANDBOX_LATENCY", "0s", "KILN_MAX_RUN_JOBS", "2000"), jfr)) {
            runSeconds(k, 1000, 256, "warm-up"); // JIT (the last C2 compilations come late), pools, caches
            double[] rates = new double[repeat];
            for (int i = 0; i < repeat; i++) {
                double s = runSeconds(k, 2000, 256, "throughput " + i);
                rates[i] = 2000 / s;
                System.err.printf(Locale.ROOT, "  2000 jobs at 0 latency: %.2f s (%.0f jobs/s)%n", s, rates[i]);
            }
            double rate = median(rates);
            rows.add(row("jobs/s, 2,000 jobs at 0 latency, 256x256", fmt(rate, 0), ">= 300", rate >= 300));

            double[][] lat = new double[repeat][];
            for (int i = 0; i < repeat; i++) lat[i] = getLatencies(k, 32, 1000);
            double p50 = median(Arrays.stream(lat).mapToDouble(l -> pct(l, 50)).toArray());
            double p99 = median(Arrays.stream(lat).mapToDouble(l -> pct(l, 99)).toArray());
            rows.add(row("GET /v1/jobs/{id} p50 (32 clients, engine busy)", fmt(p50, 1) + " ms", "-", true));
            rows.add(row("GET /v1/jobs/{id} p99 (32 clients, engine busy)", fmt(p99, 1) + " ms", "<= 20 ms", p99 <= 20));

            long rss = k.rssKb();
            rows.add(row("RSS of Kiln after the runs", rss / 1024 + " MB", "-", true));
        }

        System.out.println();
        System.out.printf("Kiln bench — %s, %d cores, Java %s, median of %d%n", hostLine(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), repeat);
        System.out.printf("%-52s %12s %10s  %s%n", "measure", "result", "goal", "");
        for (String[] r : rows) System.out.printf("%-52s %12s %10s  %s%n", (Object[]) r);
        if (!FAILURES.isEmpty()) {
            System.out.println("\nJobs that did not succeed (the sandbox fails none: these are Kiln's):");
            FAILURES.forEach(f -> System.out.println("  " + f));
        }
    }

    // ---- measures

    /** Submits one run and returns seconds from the POST until every job is terminal (all must succeed). */
    static double runSeconds(Kiln k, int jobs, int side, String label) throws Exception {
        String body = "{\"model\":\"sandbox-image\",\"prompts\":[\"bench " + label + "\"],\"count\":" + jobs
                + ",\"params\":{\"width\":" + side + ",\"height\":" + side + "}}";
        // The end is the run's finished_at (the last job's finish, stamped by Kiln on this machine's
        // clock), so the poll interval costs no precision and polling can stay light.
        Instant t0 = Instant.now();
        HttpResponse<String> r = k.post("/v1/runs", body);
        if (r.statusCode() != 202) throw new IllegalStateException("run refused: " + r.statusCode() + " " + r.body());
        String id = field(r.body(), "id");
        while (true) {
            String run = k.runSummary(id);
            String status = field(run, "status");
            if (!status.equals("running")) {
                double s = Duration.between(t0, Instant.parse(field(run, "finished_at"))).toNanos() / 1e9;
                int ok = Integer.parseInt(field(run, "succeeded"));
                if (ok != jobs) {
                    // Reported, not fatal: a failed job is a finding, and the timing still counts.
                    FAILURES.add(label + ": " + (jobs - ok) + " of " + jobs + " did not succeed, e.g. "
                            + k.get("/v1/jobs?run=" + id + "&status=failed&limit=3").body().replaceAll("\"params\":\\{[^}]*}", ""));
                }
                return s;
            }
            Thread.sleep(100);
        }
    }

    /**
     * Milliseconds of GET /v1/jobs/{id} from {@code clients} concurrent clients, asking for random
     * jobs of a run of {@code jobs} while the engine works it, until the run ends.
     */
    static double[] getLatencies(Kiln k, int clients, int jobs) throws Exception {
        HttpResponse<String> r = k.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"latency\"],\"count\":" + jobs
                + ",\"params\":{\"width\":256,\"height\":256}}");
        String runId = field(r.body(), "id");
        List<String> ids = new ArrayList<>();
        Matcher m = Pattern.compile("\"id\":\"(job_[a-z0-9]+)\"").matcher(r.body());
        while (m.find()) ids.add(m.group(1));
        if (ids.isEmpty()) throw new IllegalStateException("no job ids in run " + runId);
        ConcurrentLinkedQueue<Double> out = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                ex.submit(() -> {
                    while (!stop.get()) {
                        String id = ids.get(ThreadLocalRandom.current().nextInt(ids.size()));
                        long t = System.nanoTime();
                        HttpResponse<String> a = k.get("/v1/jobs/" + id);
                        if (a.statusCode() == 200) out.add((System.nanoTime() - t) / 1e6);
                    }
                    return null;
                });
            }
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (field(k.runSummary(runId), "status").equals("running") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            // At least 3 s of samples even when the run is quicker.
            Thread.sleep(3000);
            stop.set(true);
        }
        return out.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    // ---- helpers

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\"([^\"]*)\"|(-?[0-9.]+)|null)").matcher(json);
        if (!m.find()) throw new IllegalStateException("no " + name + " in " + json);
        return m.group(2) != null ? m.group(2) : m.group(3);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double pct(double[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1)];
    }

    static String fmt(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    static String[] row(String what, String value, String goal, boolean met) {
        return new String[] {what, value, goal, goal.equals("-") ? "" : met ? "ok" : "MISSED"};
    }

    static String hostLine() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).strip();
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return System.getProperty("os.name");
    }

    /** Kiln from its jar, in sandbox mode, on a free port with a fresh data dir; killed on close. */
    record Kiln(Process process, String base, Path data) implements AutoCloseable {
        static Kiln start(Path jar, Map<String, String> env, Path jfr) throws Exception {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Path data = Files.createTempDirectory("kiln-bench");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            if (jfr != null) {
                Files.createDirectories(jfr);
                cmd.add("-XX:StartFlightRecording=filename=" + jfr.resolve("kiln.jfr") + ",settings=profile,dumponexit=true");
            }
            // The JVM options `./kiln serve` uses (KILN_JAVA_OPTS, default -Xmx1g), so RSS is what a user sees.
            String opts = System.getenv().getOrDefault("KILN_JAVA_OPTS", "-Xmx1g");
            for (String o : opts.trim().split("\\s+")) if (!o.isBlank()) cmd.add(o);
            cmd.addAll(List.of("-jar", jar.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolve("kiln.log").toFile()));
            Map<String, String> e = pb.environment();
            e.keySet().removeIf(k -> k.startsWith("KILN_") || k.endsWith("_API_KEY") || k.endsWith("_API_TOKEN") || k.equals("FAL_KEY")
                    || k.equals("COMFYUI_URL") || k.equals("PUBLIC_BASE_URL"));
            e.put("PORT", Integer.toString(port));
            e.put("KILN_DATA_DIR", data.toString());
            e.put("KILN_SANDBOX", "on");
            e.putAll(env);
            Kiln k = new Kiln(pb.start(), "http://127.0.0.1:" + port, data);
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (!k.process.isAlive()) throw new IllegalStateException("Kiln exited; see " + data.resolve("kiln.log"));
                try {
                    if (k.get("/health").statusCode() == 200) {
                        System.err.println("Kiln up at " + k.base + " " + env + " (data " + data + ")");
                        return k;
                    }
                } catch (IOException notYet) {
                    // connection refused until it listens
                }
                Thread.sleep(200);
            }
            k.close();
            throw new IllegalStateException("Kiln did not start; see " + data.resolve("kiln.log"));
        }

        HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
            return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        /**
         * The run without its jobs (GET /v1/runs/{id} lists every job with its outputs, which for
         * 2,000 jobs would make the polling itself the load): the newest run of the listing.
         */
        String runSummary(String id) throws IOException, InterruptedException {
            String page = get("/v1/runs?limit=1").body();
            if (!field(page, "id").equals(id)) throw new IllegalStateException("another run is newer than " + id + ": " + page);
            return page;
        }

        long rssKb() throws IOException {
            for (String l : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
            return -1;
        }

        @Override
        public void close() {
            // A graceful stop (SIGTERM) so that a flight recording is written out.
            process.destroy();
            try {
                if (!process.waitFor(Duration.ofSeconds(30))) process.destroyForcibly().waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.StringReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * The CLI end to end, as a person uses it: {@code ./kiln batch|status|models} typed into a real
 * terminal (tmux) against a real Kiln — the built server jar, started as a child process with the
 * sandbox, at most 8 jobs per run, and two test models from {@code src/test/resources/catalog}.
 * It reads the screen (the progress bar as it moves, tables, messages), the files and manifests
 * left on disk, the server's own view of the runs, and every exit code; it presses Ctrl-C in the
 * middle of a batch and re-attaches.
 *
 * <p>Needs tmux ({@code apt-get install tmux}; .ci/run installs it) and {@code server/target/kiln.jar}
 * (built earlier in the same {@code ./mvnw verify}). Without tmux it is skipped, unless
 * {@code KILN_REQUIRE_TMUX} is set, as CI does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliTerminalIT {
    private static final Duration COMMAND = Duration.ofSeconds(120);
    private static final Pattern BAR = Pattern.compile("(?m)^jobs +(\\d+)% .*? (\\d+)/(\\d+) \\(.*\\) (\\d+) done, (\\d+) failed, (\\d+) running, (\\d+) queued · (\\d+) saved");

    private final HttpClient http = HttpClient.newHttpClient();
    private Path root;
    private Path work;
    private Process kiln;
    private Path kilnLog;
    private Path serverJar;
    private int port;
    private String url;
    private Terminal term;

    @BeforeAll
    void start() throws Exception {
        if (!Terminal.available()) {
            if (System.getenv("KILN_REQUIRE_TMUX") != null) fail("tmux is required for this test (apt-get install tmux)");
            Assumptions.abort("tmux is not installed; the CLI's terminal test is skipped (set KILN_REQUIRE_TMUX to make this a failure)");
        }
        root = Path.of("").toAbsolutePath().getParent();
        serverJar = root.resolve("server/target/kiln.jar");
        if (!Files.isRegularFile(serverJar)) fail(serverJar + " is missing: ./mvnw verify builds it before this test; alone, run ./kiln build first");
        work = Path.of("target/cli-it").toAbsolutePath();
        deleteTree(work);
        Files.createDirectories(work.resolve("data"));
        port = freePort();
        url = "http://127.0.0.1:" + port;
        kilnLog = work.resolve("kiln.log");
        startKiln();

        Map<String, String> env = new HashMap<>();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("PATH", root + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("LANG", "C.UTF-8");
        env.put("LC_ALL", "C.UTF-8");
        env.put("KILN_URL", url);
        term = Terminal.start(work, env);
    }

    @AfterAll
    void stop() throws Exception {
        if (term != null) term.close();
        if (kiln != null) {
            kiln.destroy();
            if (!kiln.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) kiln.destroyForcibly().waitFor();
        }
    }

    @Test
    void batchShowsLiveProgressSavesEveryOutputAndWritesTheManifest() throws Exception {
        Files.writeString(work.resolve("prompts.txt"), """
                a red fox at dawn
                # a comment, skipped

                собака в шляпе
                a lighthouse in fog
                a bowl of ramen
                a paper boat
                """);
        Terminal.Result r = term.run("kiln batch prompts.txt --model sandbox-image --count 2 --param width=96 --param height=64 --out fox", COMMAND);
        assertThat(r.exit()).as(r.screen()).isEqualTo(0);

        // 10 jobs, over a server limit of 8 per run: the CLI learns the limit and splits the batch.
        assertThat(r.screen()).contains("the server allows at most 8 jobs per run").contains("run 2 of 2");
        // The bar moved while the jobs ran, drawn in place on one line with block characters.
        List<int[]> bars = bars(r.screens());
        assertThat(bars).as("progress bars seen:\n%s", r.screens()).isNotEmpty();
        assertThat(bars).allSatisfy(b -> assertThat(b[2]).isEqualTo(10));
        assertThat(bars).anySatisfy(b -> assertThat(b[1]).isLessThan(10));
        assertThat(bars.getLast()).containsExactly(100, 10, 10, 10, 0, 0, 0, 10);
        assertThat(r.screen()).contains("█");
        assertThat(r.screen().lines().filter(l -> l.startsWith("jobs ")).count()).as(r.screen()).isEqualTo(1);
        assertThat(r.screen()).contains("10 jobs, 10 succeeded").contains("saved 10 files in fox with manifest.json and manifest.csv");

        Path out = work.resolve("fox");
        List<CSVRecord> rows = manifestCsv(out);
        assertThat(rows).hasSize(10);
        JsonNode manifest = Wire.JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(manifest.get("runs")).hasSize(2);
        assertThat(manifest.get("server").asString()).isEqualTo(url);
        Map<String, Integer> lineOf = Map.of("a red fox at dawn", 1, "собака в шляпе", 4, "a lighthouse in fog", 5, "a bowl of ramen", 6, "a paper boat", 7);
        for (CSVRecord row : rows) {
            assertThat(row.get("status")).isEqualTo("succeeded");
            assertThat(row.get("line")).isEqualTo(String.valueOf(lineOf.get(row.get("prompt"))));
            JsonNode job = get("/v1/jobs/" + row.get("job_id"));
            assertThat(job.get("run_id").asString()).isEqualTo(row.get("run_id"));
            assertThat(row.get("seed")).isEqualTo(job.get("params").get("seed").asString());
            assertThat(Wire.JSON.readTree(row.get("params")).get("width").asInt()).isEqualTo(96);
            Path file = out.resolve(row.get("file"));
            byte[] bytes = Files.readAllBytes(file);
            assertThat(bytes).startsWith(0x89, 'P', 'N', 'G');
            JsonNode output = job.get("outputs").get(0);
            assertThat((long) bytes.length).isEqualTo(output.get("size").asLong()).isEqualTo(Long.parseLong(row.get("size")));
            assertThat(sha256(bytes)).isEqualTo(output.get("sha256").asString()).isEqualTo(row.get("sha256"));
            assertThat(row.get("file")).matches("\\d{4}_[\\p{L}\\d-]+_s" + row.get("seed") + "\\.png");
        }
        assertThat(rows).extracting(x -> x.get("file")).anyMatch(f -> f.contains("собака-в-шляпе"));
        assertThat(files(out)).hasSize(12);
    }

    @Test
    void failedJobsMakeAPartialOrFailedExitWithTheirErrorsInTheManifestAndStatus() throws Exception {
        // cli-test-image accepts widths up to 8192, the sandbox renders up to 4096: wider jobs fail at the provider.
        // Each row has its own width, so each is its own run: six runs, followed on one event stream.
        Files.writeString(work.resolve("mixed.csv"), """
                prompt,width,negative_prompt
                a narrow fox,96,
                a wide fox,5000,blurry
                a narrow cat,128,
                a narrow owl,160,
                a narrow eel,192,
                a narrow elk,224,
                """);
        Terminal.Result r = term.run("kiln batch mixed.csv --model cli-test-image --out mixed", COMMAND);
        assertThat(r.exit()).as(r.screen()).isEqualTo(1);
        assertThat(r.screen()).contains("6 jobs, 5 succeeded, 1 failed").contains("not succeeded:")
                .contains("failed provider_rejected").contains("size out of range");
        List<CSVRecord> rows = manifestCsv(work.resolve("mixed"));
        CSVRecord wide = rows.stream().filter(x -> x.get("prompt").equals("a wide fox")).findFirst().orElseThrow();
        assertThat(wide.get("status")).isEqualTo("failed");
        assertThat(wide.get("error_code")).isEqualTo("provider_rejected");
        assertThat(wide.get("error_message")).contains("size out of range");
        assertThat(wide.get("negative_prompt")).isEqualTo("blurry");
        assertThat(wide.get("file")).isEmpty();
        assertThat(rows).filteredOn(x -> x.get("status").equals("succeeded")).hasSize(5).allSatisfy(x -> assertThat(x.get("file")).endsWith(".png"));

        Terminal.Result status = term.run("kiln status mixed", COMMAND);
        assertThat(status.exit()).as(status.screen()).isEqualTo(1);
        assertThat(status.screen()).contains("RUN ").contains("(6 runs)").contains("PROMPT / ERROR").contains("provider_rejected");
        String firstRun = Wire.JSON.readTree(work.resolve("mixed/manifest.json").toFile()).get("runs").get(0).asString();
        Terminal.Result one = term.run("kiln status " + firstRun, COMMAND);
        assertThat(one.exit()).as(one.screen()).isEqualTo(0);
        assertThat(one.screen()).contains(firstRun).contains("succeeded");

        Files.writeString(work.resolve("wide.jsonl"), "{\"prompt\": \"a wide owl\", \"width\": 5000}\n\"a wide whale\"\n");
        Terminal.Result all = term.run("kiln batch wide.jsonl --model cli-test-image --param width=6000 --out wide", COMMAND);
        assertThat(all.exit()).as(all.screen()).isEqualTo(3);
        assertThat(all.screen()).contains("2 jobs, 0 succeeded, 2 failed");
    }

    @Test
    void ctrlCLeavesTheRunsGoingAndResumeSavesOnlyWhatIsMissing() throws Exception {
        // cli-test-queue runs on the sandbox's ComfyUI with four workers: 16 jobs finish in waves.
        Files.writeString(work.resolve("queue.txt"), "a kite\na comet\na tulip\na glacier\n");
        term.start("kiln batch queue.txt --model cli-test-queue --count 4");
        Terminal.Result mid = term.awaitScreen(s -> {
            List<int[]> b = bars(List.of(s));
            return !b.isEmpty() && b.getLast()[7] >= 2 && b.getLast()[1] < b.getLast()[2];
        }, COMMAND);
        assertThat(mid.exit()).as("the batch ended before it could be interrupted:\n%s", mid.screen()).isEqualTo(-1);
        term.press("C-c");
        Terminal.Result r = term.await(COMMAND);
        assertThat(r.exit()).as(r.screen()).isEqualTo(130);
        assertThat(r.screen()).contains("kiln: interrupted. The 2 runs keep going on the server");
        Matcher hint = Pattern.compile("Re-attach and save the rest: +\\S*kiln batch --resume (run_\\w+)").matcher(r.screen());
        assertThat(hint.find()).as(r.screen()).isTrue();
        String firstRun = hint.group(1);
        Path out = work.resolve(firstRun);
        JsonNode manifest = Wire.JSON.readTree(out.resolve("manifest.json").toFile());
        List<String> runs = new ArrayList<>();
        manifest.get("runs").forEach(n -> runs.add(n.asString()));
        assertThat(runs).hasSize(2).first().isEqualTo(firstRun);
        for (String run : runs) assertThat(get("/v1/runs/" + run).get("counts").get("canceled").asInt()).isZero();

        List<Path> saved = files(out).stream().filter(p -> p.toString().endsWith(".png")).toList();
        assertThat(saved).as("saved before Ctrl-C").hasSizeGreaterThanOrEqualTo(2);
        // One saved file damaged meanwhile: the resume must notice (hash) and fetch it again.
        Files.writeString(saved.getFirst(), "damaged");
        int intact = saved.size() - 1;

        Terminal.Result resumed = term.run("kiln batch --resume " + firstRun, COMMAND);
        assertThat(resumed.exit()).as(resumed.screen()).isEqualTo(0);
        assertThat(resumed.screen()).contains("re-attached to 2 runs (16 jobs")
                .contains("saved " + (16 - intact) + " files, kept " + intact + " already there (size and SHA-256 match), in " + firstRun);
        List<CSVRecord> rows = manifestCsv(out);
        assertThat(rows).hasSize(16).allSatisfy(x -> assertThat(x.get("status")).isEqualTo("succeeded"));
        for (CSVRecord row : rows) {
            assertThat(sha256(Files.readAllBytes(out.resolve(row.get("file"))))).isEqualTo(row.get("sha256"));
        }
        assertThat(files(out)).hasSize(18).noneMatch(p -> p.getFileName().toString().endsWith(".part"));

        // Re-attaching by run id alone, elsewhere, starts a fresh folder for that run.
        Files.createDirectories(work.resolve("elsewhere"));
        Terminal.Result byId = term.run("(cd elsewhere && kiln batch --resume " + runs.get(1) + ")", COMMAND);
        assertThat(byId.exit()).as(byId.screen()).isEqualTo(0);
        assertThat(byId.screen()).contains("saved 8 files in " + runs.get(1));
        assertThat(files(work.resolve("elsewhere").resolve(runs.get(1)))).hasSize(10);
    }

    @Test
    void tablesAndErrorsAndTheirExitCodes() throws Exception {
        Terminal.Result models = term.run("kiln models", COMMAND);
        assertThat(models.exit()).as(models.screen()).isEqualTo(0);
        assertThat(models.screen()).contains("MODEL").contains("KIND").contains("sandbox-image").contains("cli-test-queue");
        Terminal.Result model = term.run("kiln models sandbox-image", COMMAND);
        assertThat(model.exit()).isEqualTo(0);
        assertThat(model.screen()).contains("PARAMETER").contains("output_format").contains("png, jpeg, webp");

        Files.writeString(work.resolve("one.txt"), "a fox\n");
        Terminal.Result invalid = term.run("kiln batch one.txt --model sandbox-image --param width=5000 --param num_outputs=9", COMMAND);
        assertThat(invalid.exit()).as(invalid.screen()).isEqualTo(5);
        assertThat(invalid.screen()).contains("validation_failed (422)").contains("params.width:").contains("params.num_outputs:");
        Terminal.Result unknownModel = term.run("kiln batch one.txt --model no-such-model", COMMAND);
        assertThat(unknownModel.exit()).isEqualTo(5);
        assertThat(unknownModel.screen()).contains("not_found (404)");
        Terminal.Result noRun = term.run("kiln status run_0000000000000000000000000", COMMAND);
        assertThat(noRun.exit()).isEqualTo(5);
        assertThat(noRun.screen()).contains("not_found (404)");

        Terminal.Result badType = term.run("kiln batch one.txt --model sandbox-image --param width=wide", COMMAND);
        assertThat(badType.exit()).isEqualTo(2);
        assertThat(badType.screen()).contains("--param width=wide: width is an integer parameter");
        Terminal.Result missing = term.run("kiln batch nothing-here.txt --model sandbox-image", COMMAND);
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.screen()).contains("no such prompts file: nothing-here.txt");
        Terminal.Result noModel = term.run("kiln batch one.txt", COMMAND);
        assertThat(noModel.exit()).isEqualTo(2);

        int closed = freePort();
        Terminal.Result down = term.run("kiln models --url http://127.0.0.1:" + closed, COMMAND);
        assertThat(down.exit()).isEqualTo(4);
        assertThat(down.screen()).contains("cannot reach Kiln at http://127.0.0.1:" + closed).contains("connection refused");
    }

    @Test
    void aServerKilledMidBatchIsWaitedForAndTheBatchStillCompletes() throws Exception {
        Files.writeString(work.resolve("restart.txt"), "a harbour\na windmill\na lantern\na canyon\n");
        term.start("kiln batch restart.txt --model cli-test-queue --count 3 --out restart");
        term.awaitScreen(s -> {
            List<int[]> b = bars(List.of(s));
            return !b.isEmpty() && b.getLast()[7] >= 1 && b.getLast()[1] < b.getLast()[2];
        }, COMMAND);
        kiln.destroyForcibly().waitFor();
        // The event streams break and the reads fail: the CLI says so and keeps trying.
        Terminal.Result waiting = term.awaitScreen(s -> s.contains("server unreachable since"), COMMAND);
        assertThat(waiting.exit()).as(waiting.screen()).isEqualTo(-1);
        startKiln();
        Terminal.Result r = term.await(COMMAND);
        assertThat(r.exit()).as(r.screen()).isEqualTo(0);
        assertThat(r.screen()).contains("12 jobs, 12 succeeded");
        List<CSVRecord> rows = manifestCsv(work.resolve("restart"));
        assertThat(rows).hasSize(12).allSatisfy(x -> assertThat(x.get("status")).isEqualTo("succeeded"));
        for (CSVRecord row : rows) {
            assertThat(sha256(Files.readAllBytes(work.resolve("restart").resolve(row.get("file"))))).isEqualTo(row.get("sha256"));
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Starts the server jar as an operator would, on the test's port and data; again after a kill (same data). */
    private void startKiln() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", serverJar.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(kilnLog.toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("KILN_") || k.endsWith("_API_KEY") || k.endsWith("_API_TOKEN")
                || k.equals("FAL_KEY") || k.equals("COMFYUI_URL") || k.equals("PUBLIC_BASE_URL"));
        pb.environment().putAll(Map.of("PORT", String.valueOf(port), "KILN_DATA_DIR", work.resolve("data").toString(),
                "KILN_SANDBOX_LATENCY", "1500ms", "KILN_MAX_RUN_JOBS", "8",
                "KILN_CATALOG_DIR", Path.of("src/test/resources/catalog").toAbsolutePath().toString(),
                // The test catalogue's workflow loads test.safetensors; the sandbox's ComfyUI must have it, as a real one would.
                "KILN_SANDBOX_COMFY_MODELS", "checkpoints/test.safetensors"));
        kiln = pb.start();
        awaitHealth(Duration.ofSeconds(180));
    }

    /** Every progress bar on the screens: percent, finished, total, done, failed, running, queued, saved. */
    private static List<int[]> bars(List<String> screens) {
        List<int[]> out = new ArrayList<>();
        for (String s : screens) {
            Matcher m = BAR.matcher(s);
            while (m.find()) {
                int[] b = new int[8];
                for (int i = 0; i < 8; i++) b[i] = Integer.parseInt(m.group(i + 1));
                out.add(b);
            }
        }
        return out;
    }

    private static List<CSVRecord> manifestCsv(Path dir) throws IOException {
        return CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(Files.readString(dir.resolve("manifest.csv")))).getRecords();
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    private JsonNode get(String path) throws Exception {
        HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(url + path)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        return Wire.JSON.readTree(res.body());
    }

    private void awaitHealth(Duration max) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            if (!kiln.isAlive()) fail("Kiln exited while starting:\n" + Files.readString(kilnLog));
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url + "/health")).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
            } catch (IOException notYet) {
                // connection refused until it listens
            }
            Thread.sleep(200);
        }
        fail("Kiln did not start within " + max + ":\n" + Files.readString(kilnLog));
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}

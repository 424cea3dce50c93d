package dev.kiln.crash;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Crash recovery under {@code kill -9}: Kiln runs as a child process, takes a run of
 * {@value #JOBS} jobs, and is killed three times at different moments — right after the 202,
 * while jobs are being submitted to the provider, and while outputs are being fetched — and
 * started again on the same data each time. At the end every accepted job is finished and no job
 * was sent to the provider twice: the sandbox emulator's journal (its tasks, which outlive the
 * crash like tasks at a real provider) holds at most one task per job. A job that succeeded has
 * exactly one, the one whose id Kiln recorded, and every output downloads with the checksum Kiln
 * recorded. A job whose submission was in flight when Kiln died may instead end {@code failed}
 * with {@code ambiguous_submission}: WaveSpeed's prediction list shows no inputs, so the task it
 * may have created cannot be recognised, and Kiln does not pay twice (docs/PROVIDERS.md,
 * "WaveSpeed"). Every other job succeeds.
 * Kiln runs with {@code KILN_AUTH=on} and the run belongs to a user who pays for it in credits:
 * after every restart the credit ledger balances, and at the end the user has paid exactly the
 * cost of the jobs that succeeded, with nothing left reserved.
 */
abstract class CrashContract {
    static final int JOBS = 30;
    static final Duration START = Duration.ofSeconds(90);
    static final String ADMIN_KEY = "crash-test-admin-key";
    /** The run's owner's session token, valid across restarts (sessions live in the database). */
    private String token;

    @TempDir Path dir;
    private final List<KilnProcess> started = new ArrayList<>();
    private final List<String> story = new ArrayList<>();

    /** Environment naming the database (nothing for the embedded one). */
    abstract Map<String, String> database();

    /** Runs after every Kiln process is dead. */
    void dropDatabase() {}

    @AfterEach
    void stopAll() {
        for (KilnProcess k : started) k.close();
        dropDatabase();
    }

    @Test
    void killedThreeTimesMidRunLosesNothingAndSubmitsNothingTwice() throws Exception {
        Path data = dir.resolve("data");
        int port = KilnProcess.freePort();

        // 1. Early: killed as soon as the run is accepted.
        KilnProcess a = start(port, 1);
        Http.Answer made = admin(a).post("/v1/admin/users", "{\"username\":\"crash\",\"password\":\"crash-password\",\"credits\":1000}");
        assertThat(made.status()).as(made.toString()).isEqualTo(201);
        Http.Answer login = a.http.post("/v1/auth/login", "{\"username\":\"crash\",\"password\":\"crash-password\"}");
        assertThat(login.status()).as(login.toString()).isEqualTo(200);
        token = login.json().get("session_token").asString();
        List<String> prompts = new ArrayList<>();
        String tag = Long.toHexString(System.nanoTime());
        for (int i = 0; i < JOBS; i++) prompts.add("crash " + tag + " #" + i);
        tools.jackson.databind.node.ObjectNode body = Json.object().put("model", "sandbox-image");
        body.set("params", Json.object().put("width", 64).put("height", 64));
        Http.Answer accepted = user(a).post("/v1/runs", Json.write(body
                .set("prompts", Json.MAPPER.valueToTree(prompts))));
        assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
        String runId = accepted.json().get("id").asString();
        kill(a, "early (right after 202)", runId);

        // 2. Mid-submit: killed when more jobs have a remote id than at start, while others have none yet.
        KilnProcess b = start(port, 2);
        int sentBefore = countJobs(b, runId, j -> !j.path("remote_id").isNull());
        waitFor(b, runId, Duration.ofSeconds(30), jobs -> count(jobs, j -> !j.path("remote_id").isNull()) > sentBefore || sentBefore == JOBS);
        kill(b, "mid-submit", runId);

        // 3. Mid-download: killed once some jobs have succeeded and others have not.
        KilnProcess c = start(port, 3);
        waitFor(c, runId, Duration.ofSeconds(30), jobs -> count(jobs, j -> j.path("status").asString().equals("succeeded")) > 0);
        kill(c, "mid-download", runId);

        // 4. The last start must finish everything.
        KilnProcess d = start(port, 4);
        List<JsonNode> jobs = waitFor(d, runId, Duration.ofSeconds(60),
                js -> count(js, j -> List.of("succeeded", "failed", "canceled", "timed_out").contains(j.path("status").asString())) == JOBS);
        String context = String.join("\n", story);

        assertThat(jobs).as(context).hasSize(JOBS);
        Map<String, String> remoteByPrompt = new LinkedHashMap<>();
        List<String> ambiguous = new ArrayList<>();
        for (JsonNode j : jobs) {
            if (j.path("status").asString().equals("failed")) {
                assertThat(j.path("error").path("code").asString()).as("job %s after:\n%s", j, context).isEqualTo("ambiguous_submission");
                ambiguous.add(j.path("prompt").asString());
                continue;
            }
            assertThat(j.path("status").asString()).as("job %s after:\n%s", j, context).isEqualTo("succeeded");
            assertThat(j.path("remote_id").isNull()).as("remote id of %s", j.path("id")).isFalse();
            remoteByPrompt.put(j.path("prompt").asString(), j.path("remote_id").asString());
            JsonNode outputs = j.path("outputs");
            assertThat(outputs.size()).as("outputs of %s (%s), history %s, after:\n%s", j.path("id"), j,
                    user(d).get("/v1/jobs/" + j.path("id").asString() + "/history").text(), context).isEqualTo(1);
            for (JsonNode o : outputs) {
                Http.Answer file = user(d).get(o.path("url").asString());
                assertThat(file.status()).as("output of %s", j.path("id")).isEqualTo(200);
                assertThat(sha256(file.body())).isEqualTo(o.path("sha256").asString());
            }
        }
        assertThat(remoteByPrompt.size() + ambiguous.size()).isEqualTo(JOBS);

        // Never a second provider task: a succeeded job has exactly the one Kiln recorded, a failed one at most one.
        Map<String, List<String>> tasksByPrompt = journalTasks(data.resolve("sandbox/wavespeed.jsonl"));
        for (String p : remoteByPrompt.keySet()) {
            assertThat(tasksByPrompt.getOrDefault(p, List.of())).as("provider tasks for '%s' after:\n%s", p, context)
                    .containsExactly(remoteByPrompt.get(p));
        }
        for (String p : ambiguous) {
            assertThat(tasksByPrompt.getOrDefault(p, List.of())).as("provider tasks for '%s' after:\n%s", p, context).hasSizeLessThan(2);
        }
        JsonNode run = user(d).get("/v1/runs/" + runId).json();
        assertThat(run.path("counts").path("succeeded").asInt()).isEqualTo(JOBS - ambiguous.size());
        assertThat(run.path("status").asString())
                .isEqualTo(ambiguous.isEmpty() ? "succeeded" : ambiguous.size() == JOBS ? "failed" : "partial");
        story.add("ambiguous after the kills (in flight, not resubmitted): " + ambiguous.size());

        // The credits: the cost of every job that succeeded captured once, failed jobs' released, nothing still held.
        java.math.BigDecimal cost = jobs.stream().filter(j -> j.path("status").asString().equals("succeeded"))
                .map(j -> j.path("cost").decimalValue()).reduce(java.math.BigDecimal.ZERO, java.math.BigDecimal::add);
        JsonNode me = user(d).get("/v1/me").json();
        assertThat(me.path("credits").decimalValue()).as("credits after:\n%s", context)
                .isEqualByComparingTo(java.math.BigDecimal.valueOf(1000).subtract(cost));
        assertThat(me.path("reserved").decimalValue()).isEqualByComparingTo("0");
        JsonNode books = admin(d).get("/v1/admin/ledger").json();
        assertThat(books.path("balanced").asBoolean()).as("ledger %s after:\n%s", books, context).isTrue();
        assertThat(books.path("accounts").path("spent").decimalValue()).isEqualByComparingTo(cost);
        System.out.println(getClass().getSimpleName() + ":\n" + String.join("\n", story));
    }

    private KilnProcess start(int port, int n) {
        Map<String, String> env = new HashMap<>(database());
        env.put("KILN_DATA_DIR", dir.resolve("data").toString());
        env.put("KILN_SANDBOX", "on");
        env.put("KILN_SANDBOX_LATENCY", "1500ms");
        env.put("KILN_SANDBOX_FAIL_RATE", "0");
        // Jobs a dead process held wait out their lease (next_at = lease end) before anyone
        // reconciles them; a short lease keeps the test short (the default is 30 s).
        env.put("KILN_LEASE", "5s");
        env.put("KILN_AUTH", "on");
        env.put("KILN_ADMIN_KEY", ADMIN_KEY);
        long t = System.nanoTime();
        KilnProcess k = KilnProcess.start(port, env, dir.resolve("kiln-" + n + ".log"), START);
        started.add(k);
        if (token != null) {
            // Whatever the kill interrupted, the books balance when Kiln is back.
            JsonNode books = admin(k).get("/v1/admin/ledger").json();
            assertThat(books.path("balanced").asBoolean()).as("ledger at start %d: %s", n, books).isTrue();
            story.add("ledger at start " + n + ": " + books);
        }
        story.add("start " + n + " (pid " + k.pid() + ") in " + (System.nanoTime() - t) / 1_000_000 + " ms");
        return k;
    }

    private Http user(KilnProcess k) {
        return k.http.with("X-API-Key", token);
    }

    private static Http admin(KilnProcess k) {
        return k.http.with("x-admin-key", ADMIN_KEY);
    }

    private void kill(KilnProcess k, String when, String runId) {
        String counts;
        try {
            List<JsonNode> jobs = jobs(k, runId);
            counts = "queued " + count(jobs, j -> j.path("status").asString().equals("queued"))
                    + ", running " + count(jobs, j -> j.path("status").asString().equals("running"))
                    + ", with remote id " + count(jobs, j -> !j.path("remote_id").isNull())
                    + ", succeeded " + count(jobs, j -> j.path("status").asString().equals("succeeded"));
        } catch (RuntimeException e) {
            counts = "(could not list jobs: " + e + ")";
        }
        k.kill();
        story.add("kill -9 " + when + ": " + counts);
    }

    private List<JsonNode> waitFor(KilnProcess k, String runId, Duration max, Predicate<List<JsonNode>> done) {
        long deadline = System.nanoTime() + max.toNanos();
        List<JsonNode> jobs = jobs(k, runId);
        while (!done.test(jobs)) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting; jobs: " + summary(jobs) + "\n" + k.logTail());
            KilnProcess.sleep(25);
            jobs = jobs(k, runId);
        }
        return jobs;
    }

    private static String summary(List<JsonNode> jobs) {
        Map<String, Integer> by = new java.util.TreeMap<>();
        for (JsonNode j : jobs) by.merge(j.path("status").asString() + (j.path("remote_id").isNull() ? "" : "+remote_id"), 1, Integer::sum);
        return by.toString();
    }

    private List<JsonNode> jobs(KilnProcess k, String runId) {
        List<JsonNode> out = new ArrayList<>();
        String cursor = null;
        do {
            Http.Answer a = user(k).get("/v1/jobs?run=" + runId + "&limit=100" + (cursor == null ? "" : "&cursor=" + cursor));
            if (a.status() != 200) throw new IllegalStateException("listing jobs: " + a);
            JsonNode page = a.json();
            page.path("items").forEach(out::add);
            cursor = page.path("next_cursor").isNull() || page.path("next_cursor").isMissingNode() ? null : page.path("next_cursor").asString();
        } while (cursor != null);
        return out;
    }

    private int countJobs(KilnProcess k, String runId, Predicate<JsonNode> p) {
        return count(jobs(k, runId), p);
    }

    private static int count(List<JsonNode> jobs, Predicate<JsonNode> p) {
        return (int) jobs.stream().filter(p).count();
    }

    /** Task ids in the emulator's journal by the prompt they were created for. */
    private static Map<String, List<String>> journalTasks(Path journal) throws IOException {
        Map<String, List<String>> out = new HashMap<>();
        for (String line : Files.readAllLines(journal)) {
            if (line.isBlank()) continue;
            JsonNode n = Json.parse(line);
            if (!n.has("model")) continue; // a cancel line
            out.computeIfAbsent(n.path("input").path("prompt").asString(), x -> new ArrayList<>()).add(n.path("id").asString());
        }
        return out;
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}

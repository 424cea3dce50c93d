package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.db.Db;
import dev.kiln.emulator.wavespeed.WaveSpeedEmulator;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.testing.Http;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * Fairness and admission over the API, with auth on: the video lane's default limits (depth 25,
 * wait 30 s) refuse with 503 and create nothing; a provider-pool lane from configuration; one
 * user's lone job is taken in the first dispatch round behind another user's 1,000-job run, and
 * both show their queue position; the per-user cap of running jobs keeps the rest queued; the
 * per-user submission rate answers 429; the admin lanes and stats.
 *
 * <p>Jobs are held in the queue by cooling the sandbox accounts down (as a provider's 429 does),
 * so the queue is what each test says it is.
 */
class LanesFlowTest extends OnModeTest {
    static final int MAX_RUNNING = 3;
    static final int PER_MINUTE = 8;

    @DynamicPropertySource
    static void lanes(DynamicPropertyRegistry r) {
        r.add("kiln.max-run-jobs", () -> "1000");
        r.add("kiln.user-max-running", () -> String.valueOf(MAX_RUNNING));
        r.add("kiln.user-submissions-per-minute", () -> String.valueOf(PER_MINUTE));
        r.add("kiln.lanes.falpool.providers", () -> "fal");
        r.add("kiln.lanes.falpool.max-depth", () -> "2");
        r.add("kiln.lanes.falpool.max-wait", () -> "1.5m");
    }

    @Autowired
    JdbcClient jdbc;
    @Autowired
    Sandbox sandbox;

    @AfterEach
    void release() {
        open();
        sandbox.emulator(WaveSpeedEmulator.class).faults().reset();
    }

    /** Holds every sandbox job in the queue: the demo models' accounts are cooling down. */
    void hold() {
        jdbc.sql("UPDATE accounts SET cooldown_until = ? WHERE provider = 'sandbox'")
                .param(Db.ts(Instant.now().plus(Duration.ofHours(1)))).update();
    }

    void open() {
        jdbc.sql("UPDATE accounts SET cooldown_until = NULL WHERE provider = 'sandbox'").update();
    }

    record Counts(long runs, long jobs, long entries, long assets) {}

    Counts counts(User u) {
        return new Counts(count("SELECT COUNT(*) FROM runs WHERE owner_id = ?", u.id()), count("SELECT COUNT(*) FROM jobs WHERE owner_id = ?", u.id()),
                count("SELECT COUNT(*) FROM credit_entries WHERE user_id = ?", u.id()), count("SELECT COUNT(*) FROM assets WHERE owner_id = ?", u.id()));
    }

    long count(String sql, String id) {
        return jdbc.sql(sql).param(id).query(Long.class).single();
    }

    static void assertOverloaded(Http.Answer a, String... detail) {
        assertThat(a.status()).as(a.toString()).isEqualTo(503);
        assertThat(a.header("Content-Type")).startsWith("application/problem+json");
        assertThat(a.json().get("code").asString()).isEqualTo("queue_overloaded");
        assertThat(a.json().get("detail").asString()).contains(detail);
        assertThat(a.json().get("user_action").asString()).isNotBlank().endsWith(".");
        assertThat(Long.parseLong(a.header("Retry-After"))).isBetween(1L, 600L);
    }

    JsonNode lane(String name) {
        Http.Answer a = admin.get("/v1/admin/lanes");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        for (JsonNode l : a.json().get("items")) if (l.get("name").asString().equals(name)) return l;
        throw new AssertionError("no lane " + name + " in " + a);
    }

    @Test
    void theVideoLaneRefusesPastDepth25AndCreatesNothing() throws Exception {
        hold();
        User u = newUser(1000);
        Http.Answer run = u.bearer().post("/v1/runs", "{\"model\":\"sandbox-video\",\"prompt\":\"a wave\",\"count\":25}");
        assertThat(run.status()).as(run.toString()).isEqualTo(202);
        JsonNode video = lane("video");
        assertThat(video.get("max_depth").asInt()).isEqualTo(25);
        assertThat(video.get("max_wait_seconds").asDouble()).isEqualTo(30.0);
        assertThat(video.get("depth").asInt()).isEqualTo(25);
        assertThat(video.get("overloaded").asBoolean()).isTrue();
        assertThat(video.get("serves").toString()).contains("sandbox-video");

        Counts before = counts(u);
        String input = ApiFlowTest.dataUri(ApiFlowTest.png(32, 32));
        assertOverloaded(u.bearer().post("/v1/jobs", "{\"model\":\"sandbox-video\",\"prompt\":\"one more\"}"),
                "video lane is full", "25 jobs are queued");
        assertOverloaded(u.bearer().post("/v1/runs", "{\"model\":\"sandbox-video\",\"mode\":\"i2v\",\"prompt\":\"two more\",\"count\":2,"
                + "\"images\":{\"reference_image\":[\"" + input + "\"]}}", Map.of("Idempotency-Key", "lane-503")), "video lane is full");
        assertThat(counts(u)).as("no run, job, ledger entry or stored input").isEqualTo(before);
        assertThat(count("SELECT COUNT(*) FROM idempotency WHERE owner_id = ?", u.id())).isZero();

        // A run larger than the lane can ever hold says to split it; another lane is unaffected.
        User other = newUser(1000);
        assertOverloaded(other.bearer().post("/v1/runs", "{\"model\":\"sandbox-video\",\"prompt\":\"big\",\"count\":26}"),
                "holds at most 25 queued jobs and this submission has 26");
        assertThat(other.bearer().post("/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"still fine\","
                + "\"params\":{\"width\":64,\"height\":64}}").status()).isEqualTo(202);
        assertThat(counts(other).runs()).isZero();

        assertThat(u.bearer().post("/v1/runs/" + run.json().get("id").asString() + "/cancel", null).status()).isEqualTo(200);
        assertThat(lane("video").get("depth").asInt()).isZero();
        assertThat(u.bearer().post("/v1/jobs", "{\"model\":\"sandbox-video\",\"prompt\":\"room again\"}").status()).isEqualTo(202);
    }

    @Test
    void theVideoLaneRefusesWhenItsOldestJobWaitedPast30Seconds() {
        hold();
        User u = newUser(1000);
        String waiting = submit(u.bearer(), "{\"model\":\"sandbox-video\",\"prompt\":\"stuck\"}");
        // The lane's workers are gone for longer than its limit: the job joined the queue 31 s ago.
        jdbc.sql("UPDATE jobs SET queued_at = ? WHERE id = ?").params(Db.ts(Instant.now().minusSeconds(31)), waiting).update();
        Counts before = counts(u);
        assertOverloaded(u.bearer().post("/v1/jobs", "{\"model\":\"sandbox-video\",\"prompt\":\"more\"}"),
                "video lane is backed up", "longer than the 30 s it allows");
        assertThat(counts(u)).isEqualTo(before);
        assertThat(lane("video").get("oldest_wait_seconds").asDouble()).isGreaterThanOrEqualTo(31.0);

        open();
        assertThat(awaitJob(u.bearer(), waiting, Duration.ofSeconds(60)).get("status").asString()).isEqualTo("succeeded");
        assertThat(u.bearer().post("/v1/jobs", "{\"model\":\"sandbox-video\",\"prompt\":\"moving again\"}").status()).isEqualTo(202);
    }

    @Test
    void aProviderPoolLaneFromConfiguration() {
        JsonNode pool = lane("falpool");
        assertThat(pool.get("providers").toString()).isEqualTo("[\"fal\"]");
        assertThat(pool.get("max_depth").asInt()).isEqualTo(2);
        assertThat(pool.get("max_wait_seconds").asDouble()).isEqualTo(90.0);
        assertThat(pool.get("serves").toString()).contains("test-fal").doesNotContain("sandbox-image");
        // A model that prefers Replicate is not in the fal pool, even with fal as its fallback.
        assertThat(pool.get("serves").toString()).doesNotContain("flux-schnell");
        assertThat(lane("image").get("serves").toString()).contains("flux-schnell", "sandbox-image");

        User u = newUser(1000);
        assertOverloaded(u.bearer().post("/v1/runs", "{\"model\":\"test-fal\",\"prompt\":\"three\",\"count\":3}"),
                "falpool lane holds at most 2");
        assertThat(counts(u).jobs()).isZero();
    }

    /**
     * User A's 1,000-job run is queued, then user B's one job. When the accounts open, the first
     * dispatch round takes A's oldest job and B's (both first in their user's turn), then A's next
     * ones up to A's cap: B's job is the second job dispatched, not the 1,001st.
     */
    @Test
    void aLoneJobIsTakenInTheFirstRoundBehindAThousandJobRun() {
        hold();
        User a = newUser(1000);
        User b = newUser(1000);
        long t0 = System.nanoTime();
        Http.Answer run = a.bearer().post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompt\":\"backlog\",\"count\":1000,"
                + "\"params\":{\"width\":64,\"height\":64}}");
        System.out.printf("submitting the 1,000-job run took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(run.status()).as(run.toString()).isEqualTo(202);
        String runId = run.json().get("id").asString();
        String lone = submit(b.bearer(), "{\"model\":\"sandbox-image\",\"prompt\":\"just one\",\"params\":{\"width\":64,\"height\":64}}");

        // Queue positions in the lane's fair order: A's first job, then B's, then A's others.
        JsonNode loneView = b.bearer().get("/v1/jobs/" + lone).json();
        assertThat(loneView.get("status").asString()).isEqualTo("queued");
        assertThat(loneView.get("lane").asString()).isEqualTo("image");
        assertThat(loneView.get("queue_position").asInt()).isEqualTo(1);
        JsonNode page = a.bearer().get("/v1/jobs?run=" + runId + "&limit=3").json().get("items");
        // Newest first: the run's last three jobs stand at 998, 999 and 1,000 behind the lone job and A's first.
        assertThat(page.findValuesAsString("id")).hasSize(3);
        assertThat(List.of(page.get(0).get("queue_position").asInt(), page.get(1).get("queue_position").asInt(),
                page.get(2).get("queue_position").asInt())).containsExactly(1000, 999, 998);
        JsonNode runView = a.bearer().get("/v1/runs/" + runId).json();
        assertThat(runView.get("jobs").get(0).get("queue_position").asInt()).isZero();
        assertThat(runView.get("jobs").get(1).get("queue_position").asInt()).isEqualTo(2);

        Instant opened = Instant.now();
        open();
        assertThat(awaitJob(b.bearer(), lone, Duration.ofSeconds(60)).get("status").asString()).isEqualTo("succeeded");
        List<String> order = jdbc.sql("""
                SELECT h.job_id FROM job_history h JOIN jobs j ON j.id = h.job_id
                WHERE h.to_status = 'running' AND j.owner_id IN (?, ?) ORDER BY h.id""").params(a.id(), b.id())
                .query(String.class).list();
        assertThat(order.indexOf(lone)).as("dispatch order " + order.subList(0, Math.min(6, order.size()))).isBetween(0, 1);
        Instant started = Instant.parse(b.bearer().get("/v1/jobs/" + lone).json().get("started_at").asString());
        System.out.printf("lone job behind a 1,000-job run: dispatched %d ms after the accounts opened, %d%s job taken%n",
                Duration.between(opened, started).toMillis(), order.indexOf(lone) + 1, order.indexOf(lone) == 0 ? "st" : "nd");

        // A never has more than its cap running; the rest stay queued (none failed for it).
        JsonNode counts = a.bearer().get("/v1/runs/" + runId).json().get("counts");
        assertThat(counts.get("running").asInt()).isLessThanOrEqualTo(MAX_RUNNING);
        assertThat(counts.get("failed").asInt()).isZero();
        long t = System.nanoTime();
        assertThat(a.bearer().post("/v1/runs/" + runId + "/cancel", null).status()).isEqualTo(200);
        System.out.printf("cancelling the rest of the 1,000-job run took %d ms%n", (System.nanoTime() - t) / 1_000_000);
    }

    @Test
    void aUsersJobsBeyondTheRunningCapStayQueuedAndOthersStillRun() {
        User u = newUser(1000);
        User other = newUser(1000);
        sandbox.emulator(WaveSpeedEmulator.class).faults().neverComplete(MAX_RUNNING);
        Http.Answer run = u.bearer().post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompt\":\"long\",\"count\":6,"
                + "\"params\":{\"width\":64,\"height\":64}}");
        assertThat(run.status()).as(run.toString()).isEqualTo(202);
        String runId = run.json().get("id").asString();
        await().atMost(Duration.ofSeconds(30)).until(() -> u.bearer().get("/v1/runs/" + runId).json().get("counts").get("running").asInt() == MAX_RUNNING);
        // Another user's job runs and finishes meanwhile: the cap is per user.
        String theirs = submit(other.bearer(), "{\"model\":\"sandbox-image\",\"prompt\":\"quick\",\"params\":{\"width\":64,\"height\":64}}");
        assertThat(awaitJob(other.bearer(), theirs, Duration.ofSeconds(30)).get("status").asString()).isEqualTo("succeeded");
        JsonNode counts = u.bearer().get("/v1/runs/" + runId).json().get("counts");
        assertThat(counts.get("running").asInt()).isEqualTo(MAX_RUNNING);
        assertThat(counts.get("queued").asInt()).isEqualTo(6 - MAX_RUNNING);
        assertThat(counts.get("failed").asInt()).isZero();
        JsonNode queued = u.bearer().get("/v1/jobs?run=" + runId + "&status=queued").json().get("items");
        assertThat(queued).hasSize(6 - MAX_RUNNING);
        assertThat(queued.findValuesAsString("status")).containsOnly("queued");
        assertThat(lane("image").get("running").asInt()).isGreaterThanOrEqualTo(MAX_RUNNING);

        // Cancelling the stuck ones frees the user's places: the queued jobs run.
        List<String> stuck = u.bearer().get("/v1/jobs?run=" + runId + "&status=running").json().get("items").findValuesAsString("id");
        for (String id : stuck) assertThat(u.bearer().post("/v1/jobs/" + id + "/cancel", null).status()).isEqualTo(200);
        JsonNode done = awaitRun(u.bearer(), runId, Duration.ofSeconds(60));
        assertThat(done.get("counts").get("succeeded").asInt()).isEqualTo(6 - MAX_RUNNING);
        assertThat(done.get("counts").get("canceled").asInt()).isEqualTo(MAX_RUNNING);
    }

    @Test
    void submissionsPastTheUsersRatePerMinuteAre429() {
        User u = newUser(1000);
        Http.Answer limited = null;
        int accepted = 0;
        for (int i = 0; i < PER_MINUTE + 3 && limited == null; i++) {
            Http.Answer a = u.bearer().post("/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"n" + i + "\",\"params\":{\"width\":64,\"height\":64}}");
            if (a.status() == 429) limited = a;
            else {
                assertThat(a.status()).as(a.toString()).isEqualTo(202);
                accepted++;
            }
        }
        assertThat(limited).as("a 429 within " + (PER_MINUTE + 3) + " submissions").isNotNull();
        assertThat(accepted).isGreaterThanOrEqualTo(PER_MINUTE);
        assertThat(limited.json().get("code").asString()).isEqualTo("rate_limited");
        assertThat(limited.json().get("user_action").asString()).isNotBlank();
        assertThat(Long.parseLong(limited.header("Retry-After"))).isBetween(1L, 60L);
        long jobs = counts(u).jobs();
        // A run is one submission too, and is refused the same way; nothing is created.
        assertThat(u.bearer().post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompt\":\"r\",\"count\":2}").status()).isEqualTo(429);
        assertThat(counts(u).jobs()).isEqualTo(jobs);
        // Another user is not slowed down.
        assertThat(newUser(10).bearer().post("/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"mine\",\"params\":{\"width\":64,\"height\":64}}")
                .status()).isEqualTo(202);
    }

    @Test
    void adminLanesAndStats() {
        User u = newUser(1000);
        assertThat(u.bearer().get("/v1/admin/lanes").status()).isEqualTo(403);
        assertThat(u.bearer().get("/v1/admin/stats").status()).isEqualTo(403);
        assertThat(anon.get("/v1/admin/stats").status()).isEqualTo(401);
        String ok = submit(u.bearer(), "{\"model\":\"sandbox-image\",\"prompt\":\"counted\",\"params\":{\"width\":64,\"height\":64}}");
        assertThat(awaitJob(u.bearer(), ok, Duration.ofSeconds(30)).get("status").asString()).isEqualTo("succeeded");

        Http.Answer lanes = admin.get("/v1/admin/lanes");
        assertThat(lanes.status()).as(lanes.toString()).isEqualTo(200);
        assertThat(lanes.json().get("items").findValuesAsString("name")).contains("default", "falpool", "image", "video");
        assertThat(lanes.json().get("user_max_running").asInt()).isEqualTo(MAX_RUNNING);
        assertThat(lanes.json().get("user_submissions_per_minute").asInt()).isEqualTo(PER_MINUTE);
        JsonNode image = lane("image");
        assertThat(image.get("kinds").toString()).isEqualTo("[\"image\"]");
        assertThat(image.get("max_depth").asInt()).isEqualTo(10000);
        assertThat(image.get("max_wait_seconds").asDouble()).isZero();
        assertThat(image.get("admitted").asLong()).isPositive();
        assertThat(image.has("oldest_wait_seconds")).isTrue();

        Http.Answer stats = admin.get("/v1/admin/stats");
        assertThat(stats.status()).as(stats.toString()).isEqualTo(200);
        JsonNode jobs = stats.json().get("jobs");
        assertThat(jobs.propertyNames()).containsExactlyInAnyOrder("queued", "running", "succeeded", "failed", "canceled", "timed_out");
        assertThat(jobs.get("succeeded").asLong()).isPositive();
        long total = 0;
        for (String s : jobs.propertyNames()) total += jobs.get(s).asLong();
        assertThat(stats.json().get("jobs_total").asLong()).isEqualTo(total)
                .isEqualTo(jdbc.sql("SELECT COUNT(*) FROM jobs").query(Long.class).single());
        JsonNode sandboxAccount = null;
        for (JsonNode acc : stats.json().get("accounts")) if (acc.get("provider").asString().equals("sandbox")) sandboxAccount = acc;
        assertThat(sandboxAccount).as(stats.toString()).isNotNull();
        assertThat(sandboxAccount.get("requests").asLong()).isPositive();
        assertThat(sandboxAccount.get("errors").asLong()).isNotNegative();
        assertThat(sandboxAccount.get("error_rate").asDouble()).isBetween(0.0, 1.0)
                .isEqualTo(Math.round(1e4 * sandboxAccount.get("errors").asLong() / (double) sandboxAccount.get("requests").asLong()) / 1e4);
        assertThat(Instant.parse(sandboxAccount.get("last_used_at").asString())).isBefore(Instant.now().plusSeconds(1));
        for (JsonNode acc : stats.json().get("accounts")) {
            if (acc.get("requests").asLong() == 0) assertThat(acc.get("error_rate").isNull()).isTrue();
        }
    }
}

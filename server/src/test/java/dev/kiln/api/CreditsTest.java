package dev.kiln.api;

import dev.kiln.emulator.wavespeed.WaveSpeedEmulator;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.sandbox.Sandbox;
import dev.kiln.testing.Http;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * Credits over the API: start credits, a reservation per job at submission, capture on success,
 * release on failure, cancel and timeout, 402 with nothing created, admin grants, concurrent
 * submissions that never overdraw, and a ledger that balances after each.
 */
class CreditsTest extends OnModeTest {
    /** 1024×1024, one output: exactly one credit (one per megapixel). */
    private static final String ONE_CREDIT = "\"params\":{\"width\":1024,\"height\":1024}";

    @Autowired
    Sandbox sandbox;
    @Autowired
    JdbcClient jdbc;

    @AfterEach
    void balanced() {
        sandbox.emulator(WaveSpeedEmulator.class).faults().reset();
        JsonNode audit = ledger();
        assertThat(audit.get("balanced").asBoolean()).as(audit.toString()).isTrue();
    }

    static double credits(User u) {
        return u.bearer().get("/v1/me").json().get("credits").asDouble();
    }

    @Test
    void aRunReservesEachJobsCostAndSuccessCapturesIt() {
        User u = newUser();
        JsonNode me = u.bearer().get("/v1/me").json();
        assertThat(me.get("credits").asDouble()).isEqualTo(100);
        assertThat(me.get("entries")).hasSize(1);
        assertThat(me.get("entries").get(0).get("kind").asString()).isEqualTo("start");

        Http.Answer run = u.bearer().post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"a\",\"b\",\"c\"]," + ONE_CREDIT + "}");
        assertThat(run.status()).as(run.toString()).isEqualTo(202);
        assertThat(credits(u)).isEqualTo(97);
        JsonNode done = awaitRun(u.bearer(), run.json().get("id").asString(), Duration.ofSeconds(60));
        assertThat(done.get("status").asString()).isEqualTo("succeeded");
        me = u.bearer().get("/v1/me").json();
        assertThat(me.get("credits").asDouble()).isEqualTo(97);
        assertThat(me.get("reserved").asDouble()).isZero();
        assertThat(me.get("entries").findValuesAsString("kind")).containsExactly("reserve", "reserve", "reserve", "start");
        assertThat(me.get("entries").get(0).get("amount").asDouble()).isEqualTo(-1);
        assertThat(me.get("entries").get(0).get("job_id").asString()).startsWith("job_");
        assertThat(jdbc.sql("SELECT COUNT(*) FROM credit_entries WHERE user_id = ? AND kind = 'capture'").param(u.id())
                .query(Long.class).single()).isEqualTo(6);
    }

    @Test
    void failureCancelAndTimeoutReleaseTheirCredits() {
        User u = newUser();
        sandbox.emulator(WaveSpeedEmulator.class).faults().failPredictions(1, 1403, "task execution failed");
        String failed = submit(u.bearer(), "{\"model\":\"sandbox-image\",\"prompt\":\"fails\"," + ONE_CREDIT + "}");
        assertThat(awaitJob(u.bearer(), failed, Duration.ofSeconds(30)).get("status").asString()).isEqualTo("failed");

        sandbox.emulator(WaveSpeedEmulator.class).faults().reset();
        sandbox.emulator(WaveSpeedEmulator.class).faults().neverComplete(1);
        String timedOut = submit(u.bearer(), "{\"model\":\"test-short-paid\",\"prompt\":\"never ends\"}");
        assertThat(credits(u)).isEqualTo(98);
        assertThat(awaitJob(u.bearer(), timedOut, Duration.ofSeconds(30)).get("status").asString()).isEqualTo("timed_out");

        sandbox.emulator(WaveSpeedEmulator.class).faults().reset();
        sandbox.emulator(WaveSpeedEmulator.class).faults().neverComplete(1);
        String canceled = submit(u.bearer(), "{\"model\":\"sandbox-image\",\"prompt\":\"cancel me\"," + ONE_CREDIT + "}");
        assertThat(u.bearer().post("/v1/jobs/" + canceled + "/cancel", null).json().get("status").asString()).isEqualTo("canceled");

        JsonNode me = u.bearer().get("/v1/me").json();
        assertThat(me.get("credits").asDouble()).isEqualTo(100);
        assertThat(me.get("reserved").asDouble()).isZero();
        assertThat(me.get("entries").findValuesAsString("kind")).filteredOn("release"::equals).hasSize(3);
    }

    @Test
    void aSubmissionBeyondTheBalanceIs402AndCreatesNothing() throws Exception {
        User u = newUser(2);
        String body = "{\"model\":\"sandbox-image\",\"prompts\":[\"a\",\"b\",\"c\"],\"images\":{\"reference\":[\""
                + ApiFlowTest.dataUri(ApiFlowTest.png(32, 32)) + "\"]}," + ONE_CREDIT + "}";
        Http.Answer refused = u.bearer().post("/v1/runs", body, Map.of("Idempotency-Key", "k402"));
        assertThat(refused.status()).as(refused.toString()).isEqualTo(402);
        assertThat(refused.json().get("code").asString()).isEqualTo("insufficient_credits");
        assertThat(refused.json().get("detail").asString()).contains("costs 3 credits", "balance is 2");
        assertThat(refused.json().get("user_action").asString()).isNotBlank();
        assertThat(u.bearer().post("/v1/jobs", "{\"model\":\"test-short-paid\",\"prompt\":\"x\",\"params\":{}}").status()).isEqualTo(202);
        assertThat(u.bearer().post("/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"x\"," + ONE_CREDIT + "}").status()).isEqualTo(402);

        // Nothing of the refused submissions exists: no run, no job beyond the one paid for, no stored input, no ledger entry.
        assertThat(u.bearer().get("/v1/runs").json().get("items")).isEmpty();
        assertThat(u.bearer().get("/v1/jobs").json().get("items")).hasSize(1);
        assertThat(jdbc.sql("SELECT COUNT(*) FROM assets WHERE owner_id = ?").param(u.id()).query(Long.class).single()).isZero();
        assertThat(jdbc.sql("SELECT COUNT(*) FROM credit_entries WHERE user_id = ? AND kind = 'reserve'").param(u.id())
                .query(Long.class).single()).isEqualTo(2);
        assertThat(jdbc.sql("SELECT COUNT(*) FROM idempotency WHERE owner_id = ?").param(u.id()).query(Long.class).single()).isZero();

        // With credits granted, the same key now creates the run (the 402 was not remembered).
        assertThat(admin.post("/v1/admin/users/" + u.id() + "/credits", "{\"amount\":10,\"reason\":\"top up\"}").status()).isEqualTo(200);
        Http.Answer accepted = u.bearer().post("/v1/runs", body, Map.of("Idempotency-Key", "k402"));
        assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
        assertThat(accepted.header("Idempotent-Replayed")).isNull();
        awaitRun(u.bearer(), accepted.json().get("id").asString(), Duration.ofSeconds(60));
    }

    @Test
    void concurrentSubmissionsNeverSpendMoreThanTheBalance() throws Exception {
        User u = newUser(10);
        int attempts = 30;
        List<Future<Integer>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(attempts)) {
            for (int i = 0; i < attempts; i++) {
                int n = i;
                results.add(pool.submit(() -> u.bearer().post("/v1/jobs",
                        "{\"model\":\"sandbox-image\",\"prompt\":\"race " + n + "\"," + ONE_CREDIT + "}").status()));
            }
        }
        List<Integer> statuses = new ArrayList<>();
        for (Future<Integer> f : results) statuses.add(f.get());
        assertThat(statuses).filteredOn(s -> s == 202).hasSize(10);
        assertThat(statuses).filteredOn(s -> s == 402).hasSize(20);
        assertThat(credits(u)).isZero();
        assertThat(u.bearer().get("/v1/jobs?limit=200").json().get("items")).hasSize(10);
    }

    @Test
    void adminsGrantCreditsAndMayOverdraw() {
        User u = newUser();
        Http.Answer grant = admin.post("/v1/admin/users/" + u.id() + "/credits", "{\"amount\":50.5,\"reason\":\"contest prize\"}");
        assertThat(grant.status()).as(grant.toString()).isEqualTo(200);
        assertThat(grant.json().get("credits").asDouble()).isEqualTo(150.5);
        JsonNode entry = u.bearer().get("/v1/me").json().get("entries").get(0);
        assertThat(entry.get("kind").asString()).isEqualTo("grant");
        assertThat(entry.get("amount").asDouble()).isEqualTo(50.5);
        assertThat(entry.get("reason").asString()).startsWith("contest prize");

        assertThat(admin.post("/v1/admin/users/" + u.id() + "/credits", "{\"amount\":-10,\"reason\":\"correction\"}").json()
                .get("credits").asDouble()).isEqualTo(140.5);
        Http.Answer tooMuch = admin.post("/v1/admin/users/" + u.id() + "/credits", "{\"amount\":-1000,\"reason\":\"x\"}");
        assertThat(tooMuch.status()).isEqualTo(422);
        assertThat(tooMuch.json().get("errors").get(0).get("field").asString()).isEqualTo("amount");
        Http.Answer bad = admin.post("/v1/admin/users/" + u.id() + "/credits", "{\"amount\":\"lots\"}");
        assertThat(bad.status()).isEqualTo(422);
        assertThat(bad.json().get("errors").findValuesAsString("field")).containsExactlyInAnyOrder("amount", "reason");
        assertThat(admin.post("/v1/admin/users/usr_nobody/credits", "{\"amount\":1,\"reason\":\"x\"}").status()).isEqualTo(404);
        assertThat(credits(u)).isEqualTo(140.5);

        // The admin key's user is never refused for credits: 60 jobs of 2 credits against 100.
        Http.Answer run = admin.post("/v1/runs", "{\"model\":\"test-short-paid\",\"prompts\":[\"overdraw\"],\"count\":60}");
        assertThat(run.status()).as(run.toString()).isEqualTo(202);
        assertThat(admin.get("/v1/me").json().get("credits").asDouble()).isLessThan(0);
        assertThat(admin.post("/v1/runs/" + run.json().get("id").asString() + "/cancel", null).status()).isEqualTo(200);
        awaitRun(admin, run.json().get("id").asString(), Duration.ofSeconds(30));
    }
}

package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.account.AccountStore;
import dev.kiln.emulator.fal.FalEmulator;
import dev.kiln.emulator.replicate.ReplicateEmulator;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * Kiln end to end against the Replicate and fal emulators, polling only (no public base URL):
 * 20-job runs with every output stored, and the engine's answers to their faults.
 */
class ReplicateFalFlowTest extends KilnIntegrationTest {
    static ReplicateEmulator replicate;
    static FalEmulator fal;

    @Autowired
    AccountStore accounts;
    @Autowired
    JdbcClient jdbc;

    @BeforeAll
    static void startEmulators() {
        replicate = ReplicateEmulator.start(ReplicateEmulator.Config.defaults().withApiToken("r8_flow").withLatency(Duration.ofMillis(300)));
        fal = FalEmulator.start(FalEmulator.Config.defaults().withApiKey("fal-flow").withLatency(Duration.ofMillis(300)));
    }

    @AfterAll
    static void stopEmulators() {
        replicate.close();
        fal.close();
    }

    /** Other accounts of these providers in the shared context (a sandbox's), paused while these tests run. */
    List<Map<String, Object>> paused = List.of();

    @BeforeEach
    void registerAccounts() {
        paused = jdbc.sql("SELECT id, state FROM accounts WHERE provider IN ('replicate', 'fal') AND label <> 'emulator' AND state <> 'disabled'")
                .query().listOfRows();
        jdbc.sql("UPDATE accounts SET state = 'disabled' WHERE provider IN ('replicate', 'fal') AND label <> 'emulator'").update();
        accounts.upsertRuntime(new AccountStore.Definition("replicate", "emulator", "sandbox", replicate.apiUrl(), "r8_flow",
                Map.of("webhook_secret", replicate.config().webhookSecret()), true, 64, 60_000), Instant.now());
        accounts.upsertRuntime(new AccountStore.Definition("fal", "emulator", "sandbox", fal.baseUrl(), "fal-flow",
                Map.of("jwks_url", fal.jwksUrl()), true, 64, 60_000), Instant.now());
    }

    @AfterEach
    void calm() {
        replicate.faults().reset();
        fal.faults().reset();
        jdbc.sql("UPDATE accounts SET cooldown_until = NULL, recent_failures = 0").update();
        for (Map<String, Object> a : paused) {
            jdbc.sql("UPDATE accounts SET state = :state WHERE id = :id").param("state", a.get("state")).param("id", a.get("id")).update();
        }
    }

    static String prompt() {
        return "flow " + UUID.randomUUID();
    }

    JsonNode run(String model, int jobs, String params) {
        String prompts = String.join(",", IntStream.range(0, jobs).mapToObj(i -> "\"" + model + " batch " + i + " " + UUID.randomUUID() + "\"").toList());
        Http.Answer a = http.post("/v1/runs", "{\"model\":\"" + model + "\",\"prompts\":[" + prompts + "],\"params\":" + params + "}");
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        return awaitRun(a.json().get("id").asString(), Duration.ofSeconds(40));
    }

    /** Every job succeeded with its outputs stored and downloadable as the PNGs asked for. */
    void assertAllStored(JsonNode run, int jobs, int outputsEach, int width, int height) {
        assertThat(run.get("status").asString()).as(run.toString()).isEqualTo("succeeded");
        assertThat(run.get("counts").get("succeeded").asInt()).isEqualTo(jobs);
        assertThat(run.get("jobs")).hasSize(jobs).allSatisfy(j -> {
            assertThat(j.get("outputs")).hasSize(outputsEach).allSatisfy(o -> {
                assertThat(o.get("mime").asString()).isEqualTo("image/png");
                assertThat(o.get("width").asInt()).isEqualTo(width);
                assertThat(o.get("height").asInt()).isEqualTo(height);
            });
        });
        JsonNode one = run.get("jobs").get(jobs - 1).get("outputs").get(0);
        Http.Answer file = http.get(one.get("url").asString());
        assertThat(file.status()).isEqualTo(200);
        assertThat(file.body().length).isEqualTo(one.get("size").asInt());
    }

    @Test
    void aTwentyJobReplicateRunSucceedsByPollingWithEveryOutputStored() {
        int before = replicate.submissions().size();
        JsonNode run = run("test-replicate", 20, "{\"num_outputs\":2,\"width\":72,\"height\":40}");
        assertAllStored(run, 20, 2, 72, 40);
        assertThat(replicate.submissions().size() - before).as("each job sent once").isEqualTo(20);
        assertThat(replicate.submissions().getLast().webhook()).as("no public base URL, no webhook").isNull();
        assertThat(replicate.submissions().getLast().prefer()).isNull();
    }

    @Test
    void shortReplicateJobsAreAnsweredByPreferWaitOnAVersion() {
        int before = replicate.submissions().size();
        JsonNode run = run("test-replicate-sync", 5, "{}");
        assertAllStored(run, 5, 1, 64, 48);
        List<ReplicateEmulator.Submission> subs = replicate.submissions().subList(before, replicate.submissions().size());
        assertThat(subs).hasSize(5).allSatisfy(s -> {
            assertThat(s.prefer()).startsWith("wait=");
            assertThat(s.version()).isEqualTo("5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa");
        });
    }

    @Test
    void aTwentyJobFalRunSucceedsByPollingWithEveryOutputStored() {
        int before = fal.submissions().size();
        JsonNode run = run("test-fal", 20, "{\"num_images\":2,\"width\":80,\"height\":56}");
        assertAllStored(run, 20, 2, 80, 56);
        assertThat(fal.submissions().size() - before).isEqualTo(20);
        assertThat(fal.submissions().getLast().model()).isEqualTo("fal-ai/kiln-test/image");
    }

    @Test
    void a429StormAndServerErrorsAreWaitedOutAndNothingIsPaidTwice() {
        replicate.faults().rateLimitSubmits(3, Duration.ofSeconds(1));
        fal.faults().rateLimitSubmits(2, Duration.ofSeconds(1)).failSubmits(1);
        String pr = prompt(), pf = prompt();
        String r = submitJob("{\"model\":\"test-replicate\",\"prompt\":\"" + pr + "\"}");
        String f = submitJob("{\"model\":\"test-fal\",\"prompt\":\"" + pf + "\"}");
        JsonNode rj = awaitJob(r, Duration.ofSeconds(40)), fj = awaitJob(f, Duration.ofSeconds(40));
        assertThat(rj.get("status").asString()).as(rj.toString()).isEqualTo("succeeded");
        assertThat(fj.get("status").asString()).as(fj.toString()).isEqualTo("succeeded");
        assertThat(replicate.submissions().stream().filter(s -> pr.equals(s.input().path("prompt").asString(null)))).hasSize(1);
        assertThat(fal.submissions().stream().filter(s -> pf.equals(s.input().path("prompt").asString(null)))).hasSize(1);
    }

    @Test
    void anAmbiguousSubmitIsReconciledOnReplicateAndNeverRepeatedOnFal() {
        replicate.faults().dropSubmitsAfterAccepting(1);
        fal.faults().malformSubmitAnswers(1);
        String pr = prompt(), pf = prompt();
        String r = submitJob("{\"model\":\"test-replicate\",\"prompt\":\"" + pr + "\"}");
        String f = submitJob("{\"model\":\"test-fal\",\"prompt\":\"" + pf + "\"}");
        JsonNode rj = awaitJob(r, Duration.ofSeconds(40)), fj = awaitJob(f, Duration.ofSeconds(40));
        assertThat(rj.get("status").asString()).as(rj.toString()).isEqualTo("succeeded");
        var sub = replicate.submissions().stream().filter(s -> pr.equals(s.input().path("prompt").asString(null))).toList();
        assertThat(sub).hasSize(1);
        assertThat(rj.get("remote_id").asString()).isEqualTo(sub.getFirst().id());
        // fal cannot list requests: Kiln fails the job rather than pay twice.
        assertThat(fj.get("status").asString()).isEqualTo("failed");
        assertThat(fj.get("error").get("code").asString()).isEqualTo("ambiguous_submission");
        assertThat(fal.submissions().stream().filter(s -> pf.equals(s.input().path("prompt").asString(null)))).hasSize(1);
    }

    @Test
    void pollFaultsDoNotFailTheJobs() {
        replicate.faults().rateLimitPolls(1, Duration.ofSeconds(1)).failPolls(1).malformPolls(1);
        fal.faults().rateLimitPolls(1, Duration.ofSeconds(1)).failPolls(1).malformPolls(1);
        String r = submitJob("{\"model\":\"test-replicate\",\"prompt\":\"" + prompt() + "\"}");
        String f = submitJob("{\"model\":\"test-fal\",\"prompt\":\"" + prompt() + "\"}");
        assertThat(awaitJob(r, Duration.ofSeconds(40)).get("status").asString()).isEqualTo("succeeded");
        assertThat(awaitJob(f, Duration.ofSeconds(40)).get("status").asString()).isEqualTo("succeeded");
    }

    @Test
    void aJobThatNeverCompletesTimesOutAtItsDeadlineAndIsCancelledAtTheProvider() {
        replicate.faults().neverComplete(1);
        fal.faults().neverComplete(1);
        String r = submitJob("{\"model\":\"test-replicate-short\",\"prompt\":\"" + prompt() + "\"}");
        String f = submitJob("{\"model\":\"test-fal-short\",\"prompt\":\"" + prompt() + "\"}");
        for (String id : List.of(r, f)) {
            JsonNode j = awaitJob(id, Duration.ofSeconds(20));
            assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("timed_out");
            assertThat(j.get("error").get("code").asString()).isEqualTo("timeout");
            assertThat(Duration.between(Instant.parse(j.get("created_at").asString()), Instant.parse(j.get("finished_at").asString())))
                    .isBetween(Duration.ofSeconds(3), Duration.ofSeconds(6));
        }
        String rr = awaitJob(r, Duration.ofSeconds(1)).get("remote_id").asString();
        String fr = awaitJob(f, Duration.ofSeconds(1)).get("remote_id").asString();
        await().atMost(Duration.ofSeconds(10)).until(() -> "canceled".equals(replicate.status(rr)) && "CANCELED".equals(fal.status(fr)));
    }

    @Test
    void anExpiredOutputFailsTheJobInsteadOfSucceedingWithoutIt() {
        replicate.faults().expireOutputs(1);
        String r = submitJob("{\"model\":\"test-replicate\",\"prompt\":\"" + prompt() + "\"}");
        JsonNode rj = awaitJob(r, Duration.ofSeconds(30));
        fal.faults().expireOutputs(1);
        String f = submitJob("{\"model\":\"test-fal\",\"prompt\":\"" + prompt() + "\"}");
        JsonNode fj = awaitJob(f, Duration.ofSeconds(30));
        for (JsonNode j : List.of(rj, fj)) {
            assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("failed");
            assertThat(j.get("error").get("code").asString()).isEqualTo("output_unavailable");
            assertThat(j.get("error").get("message").asString()).contains("could not be downloaded").contains("HTTP 404");
            assertThat(j.get("outputs")).isEmpty();
        }
    }

    @Test
    void remoteFailuresAreRetriedOnlyWhenTheProviderSaysSo() {
        replicate.faults().failJobs(1, "Prediction interrupted; please retry (code: PA)", true);
        JsonNode retried = awaitJob(submitJob("{\"model\":\"test-replicate\",\"prompt\":\"" + prompt() + "\"}"), Duration.ofSeconds(30));
        assertThat(retried.get("status").asString()).as(retried.toString()).isEqualTo("succeeded");
        assertThat(retried.get("attempts").asInt()).isEqualTo(2);
        fal.faults().failJobs(1, "The content was flagged", false);
        JsonNode failed = awaitJob(submitJob("{\"model\":\"test-fal\",\"prompt\":\"" + prompt() + "\"}"), Duration.ofSeconds(30));
        assertThat(failed.get("status").asString()).isEqualTo("failed");
        assertThat(failed.get("error").get("code").asString()).isEqualTo("fal_422");
        assertThat(failed.get("error").get("message").asString()).contains("The content was flagged");
    }
}

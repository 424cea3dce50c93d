package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.wavespeed.WaveSpeedEmulator;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.testing.KilnIntegrationTest;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/** The engine against a misbehaving provider: every fault ends in the right terminal state, nothing paid for twice. */
class EngineFaultTest extends KilnIntegrationTest {
    @Autowired
    Sandbox sandbox;

    WaveSpeedEmulator emulator() {
        return sandbox.emulator(WaveSpeedEmulator.class);
    }

    @Autowired
    org.springframework.jdbc.core.simple.JdbcClient jdbc;

    /** Faults and account cooldowns must not leak into the next test (the context is shared). */
    @AfterEach
    void calm() {
        emulator().faults().reset();
        jdbc.sql("UPDATE accounts SET cooldown_until = NULL, recent_failures = 0").update();
    }

    String prompt() {
        return "fault " + UUID.randomUUID();
    }

    String job(String model, String prompt) {
        return submitJob("{\"model\":\"" + model + "\",\"prompt\":\"" + prompt + "\""
                + (model.equals("sandbox-image") ? ",\"params\":{\"width\":64,\"height\":64}" : "") + "}");
    }

    long submissionsOf(String prompt) {
        return emulator().submissions().stream().filter(s -> prompt.equals(s.input().path("prompt").asString(null))).count();
    }

    @Test
    void aRateLimitedSubmitWaitsForRetryAfterAndDoesNotCountAsAnAttempt() {
        emulator().faults().rateLimitSubmits(2, Duration.ofSeconds(1));
        String p = prompt();
        long start = System.nanoTime();
        JsonNode j = awaitJob(job("sandbox-image", p), Duration.ofSeconds(30));
        assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("succeeded");
        assertThat(j.get("attempts").asInt()).isEqualTo(1);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1500));
        assertThat(submissionsOf(p)).isEqualTo(1);
    }

    @Test
    void serverErrorsOnSubmitAreRetriedWithBackoff() {
        emulator().faults().failSubmits(2);
        String p = prompt();
        JsonNode j = awaitJob(job("sandbox-image", p), Duration.ofSeconds(40));
        assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("succeeded");
        assertThat(j.get("attempts").asInt()).isEqualTo(3);
        assertThat(submissionsOf(p)).isEqualTo(1);
    }

    @Test
    void persistentServerErrorsFailTheJobAfterItsAttempts() {
        emulator().faults().failSubmits(3);
        JsonNode j = awaitJob(job("sandbox-image", prompt()), Duration.ofSeconds(40));
        assertThat(j.get("status").asString()).isEqualTo("failed");
        assertThat(j.get("error").get("code").asString()).isEqualTo("provider_unavailable");
        assertThat(j.get("error").get("message").asString()).contains("gave up after 3 attempts").contains("HTTP 500");
    }

    @Test
    void anAmbiguousSubmitWhoseTaskCannotBeRecognisedFailsAndIsNeverRepeated() {
        // WaveSpeed lists the task but not its input: Kiln cannot tell it is this job's, and must not pay twice.
        emulator().faults().dropSubmitsAfterAccepting(1);
        String p = prompt();
        JsonNode j = awaitJob(job("sandbox-image", p), Duration.ofSeconds(40));
        assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("failed");
        assertThat(j.get("error").get("code").asString()).isEqualTo("ambiguous_submission");
        assertThat(j.get("error").get("message").asString()).contains("shows no inputs");
        assertThat(submissionsOf(p)).as("submitted exactly once").isEqualTo(1);
    }

    @Test
    void anUnreadableSubmitAnswerIsNeverRepeatedEither() {
        emulator().faults().malformSubmitAnswers(1);
        String p = prompt();
        JsonNode j = awaitJob(job("sandbox-image", p), Duration.ofSeconds(40));
        assertThat(j.get("error").get("code").asString()).as(j.toString()).isEqualTo("ambiguous_submission");
        assertThat(submissionsOf(p)).isEqualTo(1);
    }

    @Test
    void aSubmitTheProviderProvablyNeverReceivedIsSentAgainOnce() {
        // The only prediction of the model since the intent is another job's: this one never arrived.
        JsonNode before = awaitJob(job("test-lost", prompt()), Duration.ofSeconds(30));
        assertThat(before.get("status").asString()).as(before.toString()).isEqualTo("succeeded");
        emulator().faults().loseSubmitsBeforeAccepting(1).failListings(2);
        String p = prompt();
        JsonNode j = awaitJob(job("test-lost", p), Duration.ofSeconds(60));
        assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("succeeded");
        assertThat(submissionsOf(p)).as("submitted once, after the provider's records proved the first never arrived").isEqualTo(1);
        String remote = emulator().submissions().stream().filter(s -> p.equals(s.input().path("prompt").asString(null)))
                .findFirst().orElseThrow().id();
        assertThat(j.get("remote_id").asString()).isEqualTo(remote);
    }

    @Test
    void pollErrorsAndRateLimitsDoNotFailTheJob() {
        emulator().faults().failPolls(3).rateLimitPolls(1, Duration.ofSeconds(1));
        JsonNode j = awaitJob(job("sandbox-image", prompt()), Duration.ofSeconds(40));
        assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("succeeded");
        assertThat(j.get("attempts").asInt()).isEqualTo(1);
    }

    @Test
    void aJobThatNeverCompletesTimesOutAtItsDeadlineAndIsCancelledAtTheProvider() {
        emulator().faults().neverComplete(1);
        JsonNode j = awaitJob(job("test-short", prompt()), Duration.ofSeconds(20));
        assertThat(j.get("status").asString()).isEqualTo("timed_out");
        assertThat(j.get("error").get("code").asString()).isEqualTo("timeout");
        assertThat(j.get("finished_at").asString()).isNotNull();
        String remote = j.get("remote_id").asString();
        await().atMost(Duration.ofSeconds(10)).until(() -> List.of("cancelled", "deleted").contains(emulator().status(remote)));
    }

    @Test
    void aJobThatCannotBeSubmittedTimesOutWhileQueued() {
        emulator().faults().rateLimitSubmits(1, Duration.ofSeconds(6));
        JsonNode j = awaitJob(job("test-short", prompt()), Duration.ofSeconds(20));
        assertThat(j.get("status").asString()).isEqualTo("timed_out");
        assertThat(j.get("error").get("message").asString()).contains("waiting in the queue");
        assertThat(j.get("outputs")).isEmpty();
    }

    @Test
    void anExpiredOutputFailsTheJobInsteadOfSucceedingWithoutIt() {
        emulator().faults().expireOutputs(1);
        JsonNode j = awaitJob(job("sandbox-image", prompt()), Duration.ofSeconds(30));
        assertThat(j.get("status").asString()).isEqualTo("failed");
        assertThat(j.get("error").get("code").asString()).isEqualTo("output_unavailable");
        assertThat(j.get("outputs")).isEmpty();
    }

    @Test
    void aRetryableRemoteFailureIsRetriedAndAPermanentOneIsNot() {
        emulator().faults().failPredictions(1, 5000, "internal error");
        JsonNode retried = awaitJob(job("sandbox-image", prompt()), Duration.ofSeconds(30));
        assertThat(retried.get("status").asString()).as(retried.toString()).isEqualTo("succeeded");
        assertThat(retried.get("attempts").asInt()).isEqualTo(2);

        emulator().faults().failPredictions(1, 1403, "content moderation");
        JsonNode failed = awaitJob(job("sandbox-image", prompt()), Duration.ofSeconds(30));
        assertThat(failed.get("status").asString()).isEqualTo("failed");
        assertThat(failed.get("error").get("code").asString()).isEqualTo("wavespeed_failed");
        assertThat(failed.get("error").get("message").asString()).contains("content moderation");
        assertThat(failed.get("attempts").asInt()).isEqualTo(1);
    }

    @Test
    void oneFailedJobNeverStopsItsBatch() {
        emulator().faults().failPredictions(1, 1403, "refused");
        var a = http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"b1\",\"b2\",\"b3\",\"b4\",\"b5\"],\"params\":{\"width\":64,\"height\":64}}");
        JsonNode run = awaitRun(a.json().get("id").asString(), Duration.ofSeconds(30));
        assertThat(run.get("status").asString()).isEqualTo("partial");
        assertThat(run.get("counts").get("succeeded").asInt()).isEqualTo(4);
        assertThat(run.get("counts").get("failed").asInt()).isEqualTo(1);
    }

    @Test
    void cancellingARunCancelsItsUnfinishedJobs() {
        emulator().faults().neverComplete(3);
        var a = http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"c1\",\"c2\",\"c3\"],\"params\":{\"width\":64,\"height\":64}}");
        String id = a.json().get("id").asString();
        await().atMost(Duration.ofSeconds(10)).until(() -> http.get("/v1/runs/" + id).json().get("counts").get("running").asInt() == 3);
        JsonNode canceled = http.post("/v1/runs/" + id + "/cancel", "").json();
        assertThat(canceled.get("counts").get("canceled").asInt()).isEqualTo(3);
        assertThat(canceled.get("status").asString()).isEqualTo("failed");
    }
}

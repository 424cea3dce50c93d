package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.account.Account;
import dev.kiln.account.AccountHealth;
import dev.kiln.account.AccountState;
import dev.kiln.account.AccountStore;
import dev.kiln.emulator.runpod.RunPodEmulator;
import dev.kiln.testing.Http;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * Kiln on RunPod with PUBLIC_BASE_URL set to its own address: the emulator calls Kiln back, the
 * per-job token is the check (RunPod signs nothing), and lost, duplicated, out-of-order and forged
 * deliveries change nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT, properties = {
        "kiln.sandbox-latency=300ms", "kiln.allow-private-urls=true", "kiln.catalog-dir=src/test/resources/catalog-test"})
class RunPodWebhookFlowTest {
    static final int PORT;
    static final String KEY = "rp-webhook-key";

    static {
        try (ServerSocket s = new ServerSocket(0)) {
            PORT = s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void props(DynamicPropertyRegistry r) throws IOException {
        r.add("server.port", () -> PORT);
        r.add("kiln.public-base-url", () -> "http://127.0.0.1:" + PORT);
        r.add("kiln.data-dir", Files.createTempDirectory("kiln-runpod-webhooks")::toString);
    }

    @Autowired
    AccountStore accounts;
    @Autowired
    AccountHealth health;
    @Autowired
    Clock clock;
    RunPodEmulator runpod;
    Http http;

    @BeforeAll
    void start() {
        runpod = RunPodEmulator.start(RunPodEmulator.Config.defaults(KEY, "hooks").withLatency(Duration.ofMillis(300))
                .withWebhookRetries(3, Duration.ofMillis(200)).withModels("checkpoints", "test.safetensors"));
        Account a = accounts.upsertRuntime(new AccountStore.Definition("runpod", "e2e-webhooks", "test", runpod.baseUrl(), KEY,
                Map.of("endpoint_id", runpod.endpointId()), false, 16, 60_000), clock.instant());
        health.checkDue();
        await().atMost(Duration.ofSeconds(10)).until(() -> accounts.find(a.id()).orElseThrow().state() == AccountState.READY);
    }

    @AfterAll
    void stop() {
        runpod.close();
    }

    @BeforeEach
    void client() {
        http = new Http("http://127.0.0.1:" + PORT);
        runpod.faults().reset();
    }

    double webhooks(String outcome) {
        Matcher m = Pattern.compile("kiln_webhooks_total\\{[^}]*outcome=\"" + outcome + "\"[^}]*provider=\"runpod\"[^}]*} ([0-9.]+)")
                .matcher(http.get("/metrics").text());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    JsonNode awaitRun(String id, Duration max) {
        JsonNode[] last = {null};
        await().atMost(max).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = http.get("/v1/runs/" + id).json();
            return !last[0].get("status").asString().equals("running");
        });
        return last[0];
    }

    JsonNode job(String body, Duration max) {
        Http.Answer a = http.post("/v1/jobs", body);
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        String id = a.json().get("id").asString();
        JsonNode[] last = {null};
        await().atMost(max).pollInterval(Duration.ofMillis(50)).until(() -> {
            last[0] = http.get("/v1/jobs/" + id).json();
            return List.of("succeeded", "failed", "canceled", "timed_out").contains(last[0].get("status").asString());
        });
        return last[0];
    }

    @Test
    void aTwentyJobRunFinishesOnWebhooksLongBeforeItsFirstPoll() {
        double before = webhooks("accepted") + webhooks("ignored");
        String tag = "hooked " + UUID.randomUUID();
        long start = System.nanoTime();
        Http.Answer a = http.post("/v1/runs", "{\"model\":\"test-runpod-webhook\",\"prompts\":[\"" + tag + " 1\",\"" + tag + " 2\"],"
                + "\"count\":10,\"params\":{\"width\":64,\"height\":48}}");
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        JsonNode run = awaitRun(a.json().get("id").asString(), Duration.ofSeconds(18));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(run.get("status").asString()).as(run.toString()).isEqualTo("succeeded");
        assertThat(run.get("counts").get("succeeded").asInt()).isEqualTo(20);
        // The model's ETA puts the first poll at 20 s: only the webhooks can have finished the run sooner.
        assertThat(took).isLessThan(Duration.ofSeconds(18));
        for (JsonNode j : run.get("jobs")) {
            JsonNode job = http.get("/v1/jobs/" + j.get("id").asString()).json();
            assertThat(job.get("outputs")).hasSize(1);
            assertThat(http.get(job.get("outputs").get(0).get("url").asString()).status()).isEqualTo(200);
        }
        List<RunPodEmulator.Submission> mine = runpod.submissions().stream()
                .filter(s -> s.input().get("workflow").get("6").get("inputs").get("text").asString().startsWith(tag)).toList();
        assertThat(mine).hasSize(20).allSatisfy(s -> assertThat(s.webhook()).startsWith("http://127.0.0.1:" + PORT + "/webhooks/runpod?token="));
        assertThat(webhooks("accepted") + webhooks("ignored") - before).isGreaterThanOrEqualTo(20);
    }

    @Test
    void lostDuplicatedAndOutOfOrderWebhooksChangeNothing() {
        runpod.faults().dropWebhooks(1);
        JsonNode lost = job("{\"model\":\"test-runpod\",\"prompt\":\"lost hook\"}", Duration.ofSeconds(20));
        assertThat(lost.get("status").asString()).isEqualTo("succeeded");
        runpod.faults().duplicateWebhooks(1).outOfOrderWebhooks(1);
        JsonNode twice = job("{\"model\":\"test-runpod\",\"prompt\":\"twice hooked\"}", Duration.ofSeconds(20));
        assertThat(twice.get("status").asString()).isEqualTo("succeeded");
        assertThat(twice.get("outputs")).hasSize(1);
        // The stale IN_PROGRESS delivery arrives after the end and leaves the job as it is.
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> true);
        JsonNode after = http.get("/v1/jobs/" + twice.get("id").asString()).json();
        assertThat(after.get("status").asString()).isEqualTo("succeeded");
        assertThat(after.get("outputs")).hasSize(1);
    }

    @Test
    void aWebhookWithAWrongTokenOrAboutAnotherJobIsRefused() {
        JsonNode done = job("{\"model\":\"test-runpod\",\"prompt\":\"token check\"}", Duration.ofSeconds(20));
        String remote = done.get("remote_id").asString();
        String url = runpod.submissions().stream().filter(s -> s.id().equals(remote)).findFirst().orElseThrow().webhook();
        String path = url.substring(url.indexOf("/webhooks/"));
        double rejected = webhooks("rejected");
        String body = "{\"id\":\"" + remote + "\",\"status\":\"COMPLETED\",\"output\":{\"images\":[]}}";
        assertThat(http.post("/webhooks/runpod?token=not-the-token", body).status()).isEqualTo(401);
        assertThat(http.post(path, "{\"id\":\"another-job\",\"status\":\"COMPLETED\"}").status()).isEqualTo(401);
        assertThat(http.post(path, "{\"hello\":\"world\"}").status()).isEqualTo(401);
        assertThat(webhooks("rejected") - rejected).isEqualTo(3);
        // The genuine token and job: accepted as a hint, and the finished job is left alone.
        assertThat(http.post(path, body).status()).isEqualTo(200);
        JsonNode after = http.get("/v1/jobs/" + done.get("id").asString()).json();
        assertThat(after.get("status").asString()).isEqualTo("succeeded");
        assertThat(after.get("outputs")).hasSize(1);
    }
}

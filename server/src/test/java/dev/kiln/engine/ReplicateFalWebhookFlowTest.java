package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.account.AccountStore;
import dev.kiln.emulator.fal.FalEmulator;
import dev.kiln.emulator.replicate.ReplicateEmulator;
import dev.kiln.testing.Http;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * Kiln end to end with webhooks: PUBLIC_BASE_URL is Kiln's own address, so the Replicate and fal
 * emulators call back with genuinely signed webhooks. The accounts are not sandbox ones, so the
 * first poll comes only at the models' 20 s ETA: a run that finishes within seconds finished by
 * its webhooks. Forged, lost, duplicated and out-of-order webhooks change nothing.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT, properties = {
        "kiln.allow-private-urls=true", "kiln.catalog-dir=src/test/resources/catalog-test", "kiln.max-run-jobs=200"})
class ReplicateFalWebhookFlowTest {
    static final int PORT;

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
        r.add("kiln.data-dir", Files.createTempDirectory("kiln-rf-webhooks")::toString);
    }

    static ReplicateEmulator replicate;
    static FalEmulator fal;

    @Autowired
    AccountStore accounts;
    Http http;

    /**
     * Long enough that a job's webhooks arrive after Kiln recorded its submission: the engine
     * loses a webhook that arrives while the submit call is still in flight (see the report).
     */
    static final Duration LATENCY = Duration.ofMillis(1500);

    @BeforeAll
    static void startEmulators() {
        replicate = ReplicateEmulator.start(ReplicateEmulator.Config.defaults().withApiToken("r8_hooks").withLatency(LATENCY)
                .withWebhookRetries(3, Duration.ofMillis(100)));
        fal = FalEmulator.start(FalEmulator.Config.defaults().withApiKey("fal-hooks").withLatency(LATENCY)
                .withWebhookRetries(3, Duration.ofMillis(100)));
    }

    @AfterAll
    static void stopEmulators() {
        replicate.close();
        fal.close();
    }

    @BeforeEach
    void setUp() {
        http = new Http("http://127.0.0.1:" + PORT);
        // Not sandbox accounts: polls pace by the models' ETA (20 s), as for the real services.
        accounts.upsertRuntime(new AccountStore.Definition("replicate", "emulator", "env", replicate.apiUrl(), "r8_hooks",
                Map.of("webhook_secret", replicate.config().webhookSecret()), false, 64, 60_000), Instant.now());
        accounts.upsertRuntime(new AccountStore.Definition("fal", "emulator", "env", fal.baseUrl(), "fal-hooks",
                Map.of("jwks_url", fal.jwksUrl()), false, 64, 60_000), Instant.now());
    }

    @AfterEach
    void calm() {
        replicate.faults().reset();
        fal.faults().reset();
    }

    double webhooks(String provider, String outcome) {
        Matcher m = Pattern.compile("kiln_webhooks_total\\{[^}]*outcome=\"" + outcome + "\"[^}]*provider=\"" + provider + "\"[^}]*} ([0-9.]+)")
                .matcher(http.get("/metrics").text());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    String startRun(String model, int jobs, String params) {
        String prompts = String.join(",", IntStream.range(0, jobs).mapToObj(i -> "\"hook " + i + " " + UUID.randomUUID() + "\"").toList());
        Http.Answer a = http.post("/v1/runs", "{\"model\":\"" + model + "\",\"prompts\":[" + prompts + "],\"params\":" + params + "}");
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        return a.json().get("id").asString();
    }

    JsonNode awaitRun(String id, Duration max) {
        JsonNode[] last = {null};
        await().atMost(max).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = http.get("/v1/runs/" + id).json();
            return !last[0].get("status").asString().equals("running");
        });
        return last[0];
    }

    static void assertAllStored(JsonNode run, int jobs, int outputsEach) {
        assertThat(run.get("status").asString()).as(run.toString()).isEqualTo("succeeded");
        assertThat(run.get("counts").get("succeeded").asInt()).isEqualTo(jobs);
        assertThat(run.get("jobs")).hasSize(jobs).allSatisfy(j -> assertThat(j.get("outputs")).hasSize(outputsEach)
                .allSatisfy(o -> assertThat(o.get("size").asLong()).isPositive()));
    }

    @Test
    void twentyJobRunsFinishByTheirWebhooksLongBeforeTheFirstPoll() {
        double repBefore = webhooks("replicate", "accepted"), falBefore = webhooks("fal", "accepted");
        double rejected = webhooks("replicate", "rejected") + webhooks("fal", "rejected");
        long start = System.nanoTime();
        String r = startRun("test-replicate", 20, "{\"num_outputs\":2}");
        String f = startRun("test-fal", 20, "{\"num_images\":2}");
        JsonNode rr = awaitRun(r, Duration.ofSeconds(15)), fr = awaitRun(f, Duration.ofSeconds(15));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        System.out.printf("webhook runs: 2 x 20 jobs in %d ms (replicate %.1f s, fal %.1f s)%n", took.toMillis(),
                rr.get("elapsed_seconds").asDouble(), fr.get("elapsed_seconds").asDouble());
        assertThat(took).as("well before the first poll at ~20 s").isLessThan(Duration.ofSeconds(15));
        assertAllStored(rr, 20, 2);
        assertAllStored(fr, 20, 2);
        assertThat(replicate.submissions().getLast().webhook()).startsWith("http://127.0.0.1:" + PORT + "/webhooks/replicate?token=");
        assertThat(replicate.submissions().getLast().events()).containsExactly("start", "completed");
        assertThat(fal.submissions().getLast().webhook()).startsWith("http://127.0.0.1:" + PORT + "/webhooks/fal?token=");
        assertThat(webhooks("replicate", "accepted") - repBefore).isGreaterThanOrEqualTo(20);
        assertThat(webhooks("fal", "accepted") - falBefore).isGreaterThanOrEqualTo(20);
        assertThat(webhooks("replicate", "rejected") + webhooks("fal", "rejected")).isEqualTo(rejected);
    }

    @Test
    void forgedLostDuplicatedAndOutOfOrderWebhooksChangeNothing() throws InterruptedException {
        double repRejected = webhooks("replicate", "rejected"), falRejected = webhooks("fal", "rejected");
        replicate.faults().forgeWebhookSignatures(1).dropWebhooks(1).duplicateWebhooks(1).reorderWebhooks(1);
        fal.faults().forgeWebhookSignatures(1).dropWebhooks(1).duplicateWebhooks(1).reorderWebhooks(1);
        List<String> runs = new ArrayList<>();
        runs.add(startRun("test-replicate", 4, "{}"));
        runs.add(startRun("test-fal", 4, "{}"));
        for (String id : runs) {
            // Jobs whose completion webhook was forged or lost finish by the first poll, near the 20 s ETA.
            assertAllStored(awaitRun(id, Duration.ofSeconds(40)), 4, 1);
        }
        // Refused with 401, the forged delivery is retried by the emulator (as by the services): one or more rejections.
        assertThat(webhooks("replicate", "rejected")).isGreaterThan(repRejected);
        assertThat(webhooks("fal", "rejected")).isGreaterThan(falRejected);
        // Late (stale, duplicated, reordered) deliveries keep arriving: the jobs stay as they are.
        Thread.sleep(1500);
        for (String id : runs) assertAllStored(http.get("/v1/runs/" + id).json(), 4, 1);

        // A forged delivery to a running job's own URL is refused and changes nothing.
        replicate.faults().neverComplete(1);
        String job = http.post("/v1/jobs", "{\"model\":\"test-replicate\",\"prompt\":\"forge me\"}").json().get("id").asString();
        await().atMost(Duration.ofSeconds(10)).until(() -> http.get("/v1/jobs/" + job).json().path("remote_id").isString());
        String url = replicate.submissions().getLast().webhook();
        String remote = http.get("/v1/jobs/" + job).json().get("remote_id").asString();
        Http.Answer forged = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                .header("Content-Type", "application/json").header("webhook-id", "msg_forged")
                .header("webhook-timestamp", Long.toString(Instant.now().getEpochSecond()))
                .header("webhook-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"id\":\"" + remote + "\",\"status\":\"succeeded\",\"output\":[]}"))
                .build());
        assertThat(forged.status()).isEqualTo(401);
        assertThat(http.get("/v1/jobs/" + job).json().get("status").asString()).isEqualTo("running");
        http.post("/v1/jobs/" + job + "/cancel", "");
    }
}

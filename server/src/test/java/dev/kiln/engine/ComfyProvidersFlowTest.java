package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.account.Account;
import dev.kiln.account.AccountHealth;
import dev.kiln.account.AccountState;
import dev.kiln.account.AccountStore;
import dev.kiln.emulator.comfyui.ComfyUiEmulator;
import dev.kiln.emulator.runpod.RunPodEmulator;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * Kiln end to end on ComfyUI and RunPod (worker-comfyui) by polling alone (no PUBLIC_BASE_URL):
 * batches through POST /v1/runs, images uploaded or sent by name, refused workflows, and jobs that
 * never finish timing out with a cancel sent. Real HTTP throughout: client → Kiln → emulators.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ComfyProvidersFlowTest extends KilnIntegrationTest {
    static final String KEY = "rp-e2e-key";
    static final String LABEL = "e2e-polling";

    @Autowired
    AccountStore accounts;
    @Autowired
    AccountHealth health;
    @Autowired
    Clock clock;

    ComfyUiEmulator comfy;
    RunPodEmulator runpod;

    @BeforeAll
    void start() {
        comfy = ComfyUiEmulator.start(ComfyUiEmulator.Config.defaults().withWorkers(4).withLatency(Duration.ofMillis(300))
                .withModels("checkpoints", "test.safetensors", "any.safetensors"));
        runpod = RunPodEmulator.start(RunPodEmulator.Config.defaults(KEY, "e2e-endpoint").withLatency(Duration.ofMillis(300))
                .withModels("checkpoints", "test.safetensors", "any.safetensors"));
        Account c = accounts.upsertRuntime(new AccountStore.Definition("comfyui", LABEL, "test", comfy.baseUrl(), null, Map.of(),
                false, 8, 60_000), clock.instant());
        Account r = accounts.upsertRuntime(new AccountStore.Definition("runpod", LABEL, "test", runpod.baseUrl(), KEY,
                Map.of("endpoint_id", runpod.endpointId()), false, 16, 60_000), clock.instant());
        health.checkDue();
        await().atMost(Duration.ofSeconds(10)).until(() -> accounts.find(c.id()).orElseThrow().state() == AccountState.READY
                && accounts.find(r.id()).orElseThrow().state() == AccountState.READY);
    }

    @Autowired
    org.springframework.jdbc.core.simple.JdbcClient jdbc;

    /** Faults and cooldowns must not leak into the next test. */
    @org.junit.jupiter.api.AfterEach
    void calm() {
        comfy.faults().reset();
        runpod.faults().reset();
        jdbc.sql("UPDATE accounts SET cooldown_until = NULL, recent_failures = 0 WHERE label = ?").param(LABEL).update();
    }

    @AfterAll
    void stop() {
        // Leave no working account behind for the other tests sharing this context.
        for (String p : List.of("comfyui", "runpod")) {
            accounts.findByLabel(p, LABEL).ifPresent(a -> accounts.transition(a, AccountState.DISABLED, "test over", clock.instant()));
        }
        comfy.close();
        runpod.close();
    }

    static String png(int w, int h) {
        try {
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int x = 0; x < w; x++) img.setRGB(x, x % h, 0x3366ff);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Submits a 20-job run (4 prompts × 5) and checks every job succeeded with its one output stored, of the asked size. */
    void twentyJobRun(String model, String tag) throws IOException {
        String body = "{\"model\":\"" + model + "\",\"prompts\":[\"" + tag + " a\",\"" + tag + " b\",\"" + tag + " c\",\"" + tag + " d\"],"
                + "\"count\":5,\"params\":{\"width\":64,\"height\":48}}";
        Http.Answer a = http.post("/v1/runs", body);
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        JsonNode run = awaitRun(a.json().get("id").asString(), Duration.ofSeconds(45));
        assertThat(run.get("status").asString()).as(run.toString()).isEqualTo("succeeded");
        assertThat(run.get("counts").get("succeeded").asInt()).isEqualTo(20);
        Set<String> remoteIds = new HashSet<>();
        for (JsonNode j : run.get("jobs")) {
            JsonNode job = http.get("/v1/jobs/" + j.get("id").asString()).json();
            assertThat(job.get("status").asString()).isEqualTo("succeeded");
            assertThat(job.get("attempts").asInt()).isEqualTo(1);
            assertThat(job.get("outputs")).hasSize(1);
            remoteIds.add(job.get("remote_id").asString());
            Http.Answer file = http.get(job.get("outputs").get(0).get("url").asString());
            assertThat(file.status()).isEqualTo(200);
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(file.body()));
            assertThat(img.getWidth()).isEqualTo(64);
            assertThat(img.getHeight()).isEqualTo(48);
        }
        assertThat(remoteIds).hasSize(20);
    }

    @Test
    void aTwentyJobRunOnComfyUiSucceedsWithEveryOutputStored() throws IOException {
        String tag = "comfy " + UUID.randomUUID();
        twentyJobRun("test-comfyui", tag);
        assertThat(comfy.submissions().stream().filter(s -> s.prompt().get("6").get("inputs").get("text").asString().startsWith(tag)))
                .hasSize(20);
    }

    @Test
    void aTwentyJobRunOnRunPodSucceedsByPollingAlone() throws IOException {
        String tag = "runpod " + UUID.randomUUID();
        twentyJobRun("test-runpod", tag);
        List<RunPodEmulator.Submission> mine = runpod.submissions().stream()
                .filter(s -> s.input().get("workflow").get("6").get("inputs").get("text").asString().startsWith(tag)).toList();
        assertThat(mine).hasSize(20);
        assertThat(mine).allSatisfy(s -> assertThat(s.webhook()).isNull());
    }

    @Test
    void img2imgSendsTheReferenceImageToBothProviders() throws IOException {
        for (String model : List.of("test-comfyui", "test-runpod")) {
            String id = submitJob("{\"model\":\"" + model + "\",\"mode\":\"img2img\",\"prompt\":\"repaint\",\"params\":{\"width\":80,\"height\":56},"
                    + "\"images\":{\"reference_image\":[\"" + png(120, 90) + "\"]}}");
            JsonNode j = awaitJob(id, Duration.ofSeconds(20));
            assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("succeeded");
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(http.get(j.get("outputs").get(0).get("url").asString()).body()));
            assertThat(img.getWidth()).isEqualTo(80);
        }
    }

    static final String RAW = """
            {"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"any.safetensors"}},
             "6":{"class_type":"CLIPTextEncode","inputs":{"text":"raw graph","clip":["4",1]}},
             "11":{"class_type":"LoadImage","inputs":{"image":"photo.png"}},
             "12":{"class_type":"VAEEncode","inputs":{"pixels":["11",0],"vae":["4",2]}},
             "3":{"class_type":"KSampler","inputs":{"seed":5,"steps":2,"cfg":6,"sampler_name":"euler","scheduler":"normal","denoise":0.5,
                  "model":["4",0],"positive":["6",0],"negative":["6",0],"latent_image":["12",0]}},
             "8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},
             "9":{"class_type":"SaveImage","inputs":{"filename_prefix":"raw","images":["8",0]}}}""";

    @Test
    void aRawWorkflowRunsWithItsImageUnderItsOwnNameAndABrokenOneFailsNamingTheNode() throws IOException {
        String ok = submitJob("{\"model\":\"test-comfyui-workflow\",\"params\":{\"workflow\":" + RAW + "},"
                + "\"images\":{\"photo.png\":[\"" + png(40, 24) + "\"]}}");
        JsonNode j = awaitJob(ok, Duration.ofSeconds(20));
        assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("succeeded");
        assertThat(j.get("provider").asString()).isEqualTo("comfyui");
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(http.get(j.get("outputs").get(0).get("url").asString()).body()));
        assertThat(img.getWidth()).isEqualTo(40);

        String broken = submitJob("{\"model\":\"test-comfyui-workflow\",\"params\":{\"workflow\":" + RAW.replace("\"model\":[\"4\",0],", "") + "},"
                + "\"images\":{\"photo.png\":[\"" + png(40, 24) + "\"]}}");
        JsonNode f = awaitJob(broken, Duration.ofSeconds(20));
        assertThat(f.get("status").asString()).isEqualTo("failed");
        assertThat(f.get("error").get("message").asString()).contains("node 3 (KSampler)").contains("Required input is missing: model");
    }

    @Test
    void jobsThatNeverFinishTimeOutAtTheirDeadlineAndAreCancelledAtTheProvider() {
        comfy.faults().neverComplete(1);
        runpod.faults().neverComplete(1);
        String c = submitJob("{\"model\":\"test-comfyui-short\",\"prompt\":\"stuck comfy\"}");
        String r = submitJob("{\"model\":\"test-runpod-short\",\"prompt\":\"stuck runpod\"}");
        JsonNode cj = awaitJob(c, Duration.ofSeconds(15));
        JsonNode rj = awaitJob(r, Duration.ofSeconds(15));
        assertThat(cj.get("status").asString()).as(cj.toString()).isEqualTo("timed_out");
        assertThat(rj.get("status").asString()).as(rj.toString()).isEqualTo("timed_out");
        await().atMost(Duration.ofSeconds(10)).until(() -> comfy.interrupts().contains(cj.get("remote_id").asString()));
        await().atMost(Duration.ofSeconds(10)).until(() -> runpod.cancels().contains(rj.get("remote_id").asString()));
        assertThat(runpod.status(rj.get("remote_id").asString())).isEqualTo("CANCELLED");
    }

    @Test
    void rateLimitStormsServerErrorsAndBadStatusAnswersDelayJobsButNeverSendThemTwice() {
        String tag = "storm " + UUID.randomUUID();
        runpod.faults().rateLimitRuns(4, Duration.ofSeconds(1)).failStatus(2).malformStatus(1);
        comfy.faults().failPrompts(2).failHistory(2);
        List<String> rp = List.of(1, 2, 3).stream()
                .map(i -> submitJob("{\"model\":\"test-runpod\",\"prompt\":\"" + tag + " rp" + i + "\"}")).toList();
        String c = submitJob("{\"model\":\"test-comfyui\",\"prompt\":\"" + tag + " comfy\"}");
        for (String id : rp) {
            JsonNode j = awaitJob(id, Duration.ofSeconds(40));
            assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("succeeded");
            assertThat(j.get("attempts").asInt()).as("a 429 is not an attempt").isEqualTo(1);
        }
        JsonNode cj = awaitJob(c, Duration.ofSeconds(40));
        assertThat(cj.get("status").asString()).as(cj.toString()).isEqualTo("succeeded");
        assertThat(cj.get("attempts").asInt()).as("two 500s, then the third attempt").isEqualTo(3);
        assertThat(runpod.submissions().stream().filter(s -> s.input().get("workflow").get("6").get("inputs").get("text").asString()
                .startsWith(tag))).hasSize(3);
        assertThat(comfy.submissions().stream().filter(s -> s.prompt().get("6").get("inputs").get("text").asString().startsWith(tag)))
                .hasSize(1);
    }
}

package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.account.Account;
import dev.kiln.account.AccountHealth;
import dev.kiln.account.AccountState;
import dev.kiln.account.AccountStore;
import dev.kiln.emulator.comfy.ComfyInventory;
import dev.kiln.emulator.comfyui.ComfyUiEmulator;
import dev.kiln.emulator.runpod.RunPodEmulator;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * Routing by what each account has, end to end over real HTTP: two ComfyUI servers with different
 * checkpoints (read from their /object_info at health-check time), a RunPod endpoint whose worker
 * is or is not set to return VideoHelperSuite's files. A workflow goes only to an account that has
 * its models and nodes; one no account can run is refused at submission with a 422 naming the
 * field, or, when that was not known yet, fails at dispatch naming what is missing; an account
 * whose /object_info could not be read is tried, and ComfyUI's own refusal fails the job clearly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ComfyRoutingFlowTest extends KilnIntegrationTest {
    static final String KEY = "rp-routing-key";

    @Autowired
    AccountStore accounts;
    @Autowired
    AccountHealth health;
    @Autowired
    Clock clock;

    ComfyUiEmulator alpha;
    ComfyUiEmulator beta;
    RunPodEmulator runpod;
    final List<AutoCloseable> extra = new ArrayList<>();

    @BeforeAll
    void start() {
        alpha = ComfyUiEmulator.start(ComfyUiEmulator.Config.defaults().withWorkers(2).withLatency(Duration.ofMillis(100))
                .withInventory(ComfyInventory.empty().withModels("checkpoints", "alpha.safetensors")));
        beta = ComfyUiEmulator.start(ComfyUiEmulator.Config.defaults().withWorkers(2).withLatency(Duration.ofMillis(100))
                .withInventory(ComfyInventory.empty().withModels("checkpoints", "beta.safetensors")));
        runpod = RunPodEmulator.start(RunPodEmulator.Config.defaults(KEY, "routing").withLatency(Duration.ofMillis(100))
                .withVideoOutputs(true).withModels("checkpoints", "test.safetensors"));
    }

    /** Each test starts from the two ComfyUI servers alone, checked; RunPod and other accounts are added by the tests that need them. */
    @BeforeEach
    void accountsAsNew() {
        alpha.inventory(ComfyInventory.empty().withModels("checkpoints", "alpha.safetensors"));
        alpha.faults().reset();
        comfy("routing-alpha", alpha.baseUrl());
        comfy("routing-beta", beta.baseUrl());
        disable("runpod", "routing-stock");
        disable("comfyui", "routing-unknown");
        checkAll();
    }

    @AfterEach
    void leaveNothing() {
        for (String[] a : new String[][] {{"comfyui", "routing-alpha"}, {"comfyui", "routing-beta"}, {"comfyui", "routing-unknown"},
                {"comfyui", "routing-blind"}, {"runpod", "routing-stock"}}) {
            disable(a[0], a[1]);
        }
    }

    @AfterAll
    void stop() throws Exception {
        alpha.close();
        beta.close();
        runpod.close();
        for (AutoCloseable c : extra) c.close();
    }

    Account comfy(String label, String baseUrl) {
        return enable(accounts.upsertRuntime(new AccountStore.Definition("comfyui", label, "test", baseUrl, null, Map.of(), false, 4, 60_000),
                clock.instant()));
    }

    Account runpodAccount(boolean videoOutputs) {
        return enable(accounts.upsertRuntime(new AccountStore.Definition("runpod", "routing-stock", "test", runpod.baseUrl(), KEY,
                Map.of("endpoint_id", runpod.endpointId(), "video_outputs", Boolean.toString(videoOutputs)), false, 4, 60_000),
                clock.instant()));
    }

    /** A disabled account from an earlier test goes back through a health check, as the admin API's enable does. */
    Account enable(Account a) {
        if (a.state() == AccountState.DISABLED) accounts.transition(a, AccountState.CHECKING, null, clock.instant());
        return accounts.find(a.id()).orElseThrow();
    }

    void disable(String provider, String label) {
        accounts.findByLabel(provider, label).filter(a -> a.state() != AccountState.DISABLED)
                .ifPresent(a -> accounts.transition(a, AccountState.DISABLED, "test over", clock.instant()));
    }

    /** Checks every test account now, and waits out a check the background loop may have started meanwhile. */
    void checkAll() {
        for (Account a : accounts.list()) {
            if (a.label().startsWith("routing-") && a.state() != AccountState.DISABLED) health.check(accounts.find(a.id()).orElseThrow());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> accounts.list().stream().filter(a -> a.label().startsWith("routing-"))
                .allMatch(a -> a.state() == AccountState.READY || a.state() == AccountState.FAILED || a.state() == AccountState.DISABLED));
    }

    static String workflow(String ckpt, String tag) {
        return """
                {"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"%s"}},
                 "6":{"class_type":"CLIPTextEncode","inputs":{"text":"%s","clip":["4",1]}},
                 "5":{"class_type":"EmptyLatentImage","inputs":{"width":48,"height":32,"batch_size":1}},
                 "3":{"class_type":"KSampler","inputs":{"seed":3,"steps":2,"cfg":6,"sampler_name":"euler","scheduler":"normal","denoise":1,
                      "model":["4",0],"positive":["6",0],"negative":["6",0],"latent_image":["5",0]}},
                 "8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},
                 "9":{"class_type":"SaveImage","inputs":{"filename_prefix":"routed","images":["8",0]}}}""".formatted(ckpt, tag);
    }

    static String rawJob(String workflow) {
        return "{\"model\":\"test-comfyui-workflow\",\"params\":{\"workflow\":" + workflow + "}}";
    }

    static long sent(ComfyUiEmulator e, String tag) {
        return e.submissions().stream().filter(s -> s.prompt().path("6").path("inputs").path("text").asString("").equals(tag)).count();
    }

    @Test
    void eachWorkflowGoesOnlyToTheServerThatHasItsCheckpoint() {
        List<String> alphaJobs = new ArrayList<>(), betaJobs = new ArrayList<>();
        String tag = "routed " + UUID.randomUUID();
        // Beta's first: least-loaded choice alone would send the first of them to alpha, the first account.
        for (int i = 0; i < 4; i++) betaJobs.add(submitJob(rawJob(workflow("beta.safetensors", tag + " b"))));
        for (int i = 0; i < 4; i++) alphaJobs.add(submitJob(rawJob(workflow("alpha.safetensors", tag + " a"))));
        for (String id : alphaJobs) assertThat(awaitJob(id, Duration.ofSeconds(20)).get("status").asString()).isEqualTo("succeeded");
        for (String id : betaJobs) assertThat(awaitJob(id, Duration.ofSeconds(20)).get("status").asString()).isEqualTo("succeeded");
        assertThat(sent(alpha, tag + " a")).isEqualTo(4);
        assertThat(sent(beta, tag + " b")).isEqualTo(4);
        assertThat(sent(alpha, tag + " b") + sent(beta, tag + " a")).isZero();
    }

    @Test
    void aWorkflowNoAccountCanRunIsRefusedAtSubmissionNamingTheFieldsAndNothingIsQueued() {
        String tag = "nowhere " + UUID.randomUUID();
        String wf = workflow("nowhere.safetensors", tag).replace("\"9\":{", """
                "20":{"class_type":"IPAdapterAdvanced","inputs":{}},
                "9":{""");
        Http.Answer a = http.post("/v1/jobs", rawJob(wf));
        assertThat(a.status()).as(a.toString()).isEqualTo(422);
        assertThat(a.json().get("code").asString()).isEqualTo("validation_failed");
        List<String> fields = new ArrayList<>();
        a.json().get("errors").forEach(e -> fields.add(e.get("field").asString() + " → " + e.get("message").asString()));
        assertThat(fields).contains(
                "params.workflow.4.inputs.ckpt_name → 'nowhere.safetensors' is not in its models/checkpoints folder (it holds alpha.safetensors)"
                        + " on comfyui account 'routing-alpha'",
                "params.workflow.4.inputs.ckpt_name → 'nowhere.safetensors' is not in its models/checkpoints folder (it holds beta.safetensors)"
                        + " on comfyui account 'routing-beta'",
                "params.workflow.20.class_type → node class 'IPAdapterAdvanced' is not installed (a custom node?) on comfyui account 'routing-alpha'");
        // The binding on RunPod is judged too: the sandbox's endpoint says what its worker image holds.
        assertThat(fields).anyMatch(f -> f.startsWith("params.workflow.4.inputs.ckpt_name → ") && f.endsWith("on runpod account 'sandbox'"));
        assertThat(sent(alpha, tag) + sent(beta, tag)).isZero();
    }

    @Test
    void aCatalogueWorkflowNoAccountCanRunIsRefusedOnTheModel() {
        // test-comfyui's workflow loads test.safetensors, which neither server has.
        Http.Answer a = http.post("/v1/jobs", "{\"model\":\"test-comfyui\",\"prompt\":\"x\"}");
        assertThat(a.status()).as(a.toString()).isEqualTo(422);
        assertThat(a.json().get("errors").get(0).get("field").asString()).isEqualTo("model");
        assertThat(a.json().get("errors").get(0).get("message").asString()).isEqualTo("test-comfyui cannot run on comfyui account"
                + " 'routing-alpha': workflow 4.inputs.ckpt_name: 'test.safetensors' is not in its models/checkpoints folder (it holds alpha.safetensors)");
    }

    @Test
    void whatAServerHasIsReadAgainOnEachCheck() {
        String tag = "gamma " + UUID.randomUUID();
        assertThat(http.post("/v1/jobs", rawJob(workflow("gamma.safetensors", tag))).status()).isEqualTo(422);
        // A file copied into models/checkpoints: the next health check sees it.
        alpha.inventory(alpha.inventory().withModels("checkpoints", "gamma.safetensors"));
        health.check(accounts.findByLabel("comfyui", "routing-alpha").orElseThrow());
        JsonNode j = awaitJob(submitJob(rawJob(workflow("gamma.safetensors", tag))), Duration.ofSeconds(20));
        assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("succeeded");
        assertThat(sent(alpha, tag)).isEqualTo(1);
    }

    /**
     * An account never checked may have anything: the job is taken and waits for it. When its
     * check then shows it lacks the checkpoint too, no account can ever run the job, and it fails
     * at once naming what is missing instead of waiting for its deadline.
     */
    @Test
    void aJobTakenWhileAnAccountWasUnknownFailsAtDispatchOnceItsCheckShowsNoneCanRunIt() {
        // An account whose server does not answer yet: failed, and what it has unknown.
        Account unknown = accounts.upsertRuntime(new AccountStore.Definition("comfyui", "routing-unknown", "test", "http://127.0.0.1:9",
                null, Map.of(), false, 4, 60_000), clock.instant());
        health.check(enable(unknown));
        assertThat(accounts.find(unknown.id()).orElseThrow().state()).isEqualTo(AccountState.FAILED);
        String tag = "later " + UUID.randomUUID();
        String id = submitJob(rawJob(workflow("delta.safetensors", tag)));
        assertThat(http.get("/v1/jobs/" + id).json().get("status").asString()).isEqualTo("queued");
        // Its server comes up without the file.
        accounts.upsertRuntime(new AccountStore.Definition("comfyui", "routing-unknown", "test", beta.baseUrl(), null, Map.of(), false, 4,
                60_000), clock.instant());
        health.check(accounts.find(unknown.id()).orElseThrow());
        JsonNode j = awaitJob(id, Duration.ofSeconds(20));
        assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("failed");
        assertThat(j.get("error").get("code").asString()).isEqualTo("no_capable_account");
        assertThat(j.get("error").get("message").asString()).startsWith("no account can run this job:")
                .contains("comfyui 'routing-unknown': workflow 4.inputs.ckpt_name: 'delta.safetensors' is not in its models/checkpoints folder");
        assertThat(sent(alpha, tag) + sent(beta, tag)).isZero();
    }

    /** A server whose /object_info could not be read is ready with what it has unknown: tried, and ComfyUI's refusal names the file. */
    @Test
    void aServerWhoseObjectInfoFailedIsTriedAndItsOwnRefusalFailsTheJobClearly() {
        ComfyUiEmulator blind = ComfyUiEmulator.start(ComfyUiEmulator.Config.defaults()
                .withInventory(ComfyInventory.empty().withModels("checkpoints", "alpha.safetensors")));
        extra.add(blind);
        blind.faults().failObjectInfo(1);
        Account b = comfy("routing-blind", blind.baseUrl());
        health.check(b);
        Account checked = accounts.find(b.id()).orElseThrow();
        assertThat(checked.state()).isEqualTo(AccountState.READY);
        assertThat(checked.capabilitiesAt()).isNull();
        assertThat(checked.lastError()).isNull();
        String tag = "tried " + UUID.randomUUID();
        JsonNode j = awaitJob(submitJob(rawJob(workflow("epsilon.safetensors", tag))), Duration.ofSeconds(20));
        assertThat(j.get("status").asString()).as(j.toString()).isEqualTo("failed");
        assertThat(j.get("error").get("message").asString()).contains("node 4 (CheckpointLoaderSimple): Value not in list: "
                + "ckpt_name: 'epsilon.safetensors' not in ['alpha.safetensors']");
        assertThat(sent(alpha, tag) + sent(beta, tag)).isZero();
    }

    /**
     * A video workflow on RunPod needs a worker that returns VideoHelperSuite's 'gifs' files: with
     * only a stock worker and no ComfyUI that has the node, it is refused at once; a ComfyUI that
     * has it takes the job although RunPod is the first binding; a worker set video_outputs: true
     * runs it and returns the video.
     */
    @Test
    void videoWorkflowsGoToRunPodOnlyWhereItsWorkerReturnsVideos() {
        runpodAccount(false);
        checkAll();
        Http.Answer refused = http.post("/v1/jobs", "{\"model\":\"test-video-runpod-first\",\"prompt\":\"stock\"}");
        assertThat(refused.status()).as(refused.toString()).isEqualTo(422);
        List<String> messages = new ArrayList<>();
        refused.json().get("errors").forEach(e -> messages.add(e.get("message").asString()));
        assertThat(messages).contains("test-video-runpod-first cannot run on runpod account 'routing-stock': workflow 60.class_type: "
                + "VHS_VideoCombine saves its video under 'gifs', which the stock worker-comfyui does not return; this endpoint's worker is"
                + " not set video_outputs: true");
        assertThat(messages).anyMatch(m -> m.contains("comfyui account 'routing-alpha'") && m.contains("VHS_VideoCombine"));

        // A ComfyUI with the node and the checkpoint: the job falls through to the second binding.
        alpha.inventory(alpha.inventory().withModels("checkpoints", "test.safetensors").withCustomNodes("VHS_VideoCombine"));
        health.check(accounts.findByLabel("comfyui", "routing-alpha").orElseThrow());
        JsonNode viaComfy = awaitJob(submitJob("{\"model\":\"test-video-runpod-first\",\"prompt\":\"fall through\"}"), Duration.ofSeconds(30));
        assertThat(viaComfy.get("status").asString()).as(viaComfy.toString()).isEqualTo("succeeded");
        assertThat(viaComfy.get("provider").asString()).isEqualTo("comfyui");
        assertThat(viaComfy.get("outputs").get(0).get("mime").asString()).isEqualTo("video/mp4");

        // A worker that returns videos: RunPod, the first binding, takes it.
        runpodAccount(true);
        JsonNode viaRunPod = awaitJob(submitJob("{\"model\":\"test-video-runpod-first\",\"prompt\":\"custom worker\"}"), Duration.ofSeconds(30));
        assertThat(viaRunPod.get("status").asString()).as(viaRunPod.toString()).isEqualTo("succeeded");
        assertThat(viaRunPod.get("provider").asString()).isEqualTo("runpod");
        assertThat(viaRunPod.get("outputs").get(0).get("mime").asString()).isEqualTo("video/mp4");
        assertThat(runpod.submissions()).anyMatch(s -> s.input().path("workflow").path("6").path("inputs").path("text").asString("")
                .equals("custom worker"));
    }

    /**
     * The sandbox's servers have what the shipped catalogue needs plus KILN_SANDBOX_COMFY_MODELS
     * (here the test catalogue's test.safetensors): its ComfyUI says so in /object_info, read at its
     * health check, and its RunPod endpoint in the account's settings.
     */
    @Test
    void theSandboxServersHaveTheCatalogueModelsAndTheConfiguredOnes() {
        Account comfy = accounts.findByLabel("comfyui", "sandbox").orElseThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> accounts.find(comfy.id()).orElseThrow().capabilitiesAt() != null);
        JsonNode caps = accounts.capabilities(comfy.id());
        assertThat(caps.get("folders").get("checkpoints").toString()).contains("\"test.safetensors\"")
                .contains("\"ponyDiffusionV6XL_v6StartWithThisOne.safetensors\"");
        assertThat(caps.get("nodes").has("VHS_VideoCombine")).isTrue();
        JsonNode shown = http.get("/v1/admin/accounts/" + comfy.id() + "/capabilities").json();
        assertThat(shown.get("capabilities")).isEqualTo(caps);
        assertThat(shown.get("checked_at").asString()).isNotBlank();
        assertThat(http.get("/v1/admin/accounts/" + comfy.id()).json().get("capabilities_at").asString()).isNotBlank();
        Account rp = accounts.findByLabel("runpod", "sandbox").orElseThrow();
        assertThat(rp.config().get("comfy_models")).contains("checkpoints/test.safetensors", "diffusion_models/qwen_image_fp8_e4m3fn.safetensors");
        assertThat(rp.config()).containsEntry("video_outputs", "false");
    }
}

package dev.kiln.provider.comfyui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.comfyui.ComfyUiEmulator;
import dev.kiln.emulator.comfy.ComfyInventory;
import dev.kiln.provider.Download;
import dev.kiln.provider.Health;
import dev.kiln.provider.InputImage;
import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.ProviderException;
import dev.kiln.provider.ProviderHttp;
import dev.kiln.provider.Reconciliation;
import dev.kiln.provider.RemoteRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.provider.Shortfall;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.provider.Work;
import dev.kiln.support.Json;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The ComfyUI adapter against the ComfyUI emulator, over real HTTP and a real websocket. */
class ComfyUiProviderTest {
    static final String PONY = """
            {"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"pony.safetensors"}},
             "6":{"class_type":"CLIPTextEncode","inputs":{"text":"${prompt}","clip":["4",1]}},
             "7":{"class_type":"CLIPTextEncode","inputs":{"text":"bad","clip":["4",1]}},
             "5":{"class_type":"EmptyLatentImage","inputs":{"width":"${width}","height":"${height}","batch_size":1}},
             "3":{"class_type":"KSampler","inputs":{"seed":"${seed}","steps":"${steps}","cfg":6,"sampler_name":"euler","scheduler":"normal",
                  "denoise":1.0,"model":["4",0],"positive":["6",0],"negative":["7",0],"latent_image":["5",0]}},
             "8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},
             "9":{"class_type":"SaveImage","inputs":{"filename_prefix":"pony","images":["8",0]}}}""";
    static final String IMG2IMG = """
            {"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"pony.safetensors"}},
             "6":{"class_type":"CLIPTextEncode","inputs":{"text":"${prompt}","clip":["4",1]}},
             "11":{"class_type":"LoadImage","inputs":{"image":"${images.reference_image[0]}"}},
             "12":{"class_type":"VAEEncode","inputs":{"pixels":["11",0],"vae":["4",2]}},
             "3":{"class_type":"KSampler","inputs":{"seed":"${seed}","steps":2,"cfg":6,"sampler_name":"euler","scheduler":"normal",
                  "denoise":0.6,"model":["4",0],"positive":["6",0],"negative":["6",0],"latent_image":["12",0]}},
             "8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},
             "9":{"class_type":"SaveImage","inputs":{"filename_prefix":"i2i","images":["8",0]}}}""";

    final ProviderHttp http = new ProviderHttp(Duration.ofSeconds(2));
    final ComfyUiProvider provider = new ComfyUiProvider(http, ComfyUiConfig.defaults());
    final List<AutoCloseable> closeables = new ArrayList<>();
    int jobs;

    @AfterEach
    void closeAll() throws Exception {
        provider.close();
        for (AutoCloseable c : closeables.reversed()) c.close();
    }

    ComfyUiEmulator emulator(ComfyUiEmulator.Config c) {
        ComfyUiEmulator e = ComfyUiEmulator.start(c.withModels("checkpoints", "pony.safetensors"));
        closeables.add(e);
        return e;
    }

    static ProviderAccount account(ComfyUiEmulator e) {
        return new ProviderAccount("acct-comfy", "comfyui", "test", e.baseUrl() + "/", null, Map.of(), false);
    }

    SubmitRequest request(String template, Map<String, List<InputImage>> images, Map<String, Object> params) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("prompt", "a red fox in snow");
        values.put("width", 96);
        values.put("height", 64);
        values.put("seed", 42);
        values.put("steps", 4);
        values.putAll(params);
        return new SubmitRequest("job_" + (++jobs), 1, "pony-v6-xl", "txt2img", "image", null, Json.parse(template), values, images,
                null, Instant.now().plusSeconds(60), Duration.ofSeconds(1));
    }

    static InputImage image(int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(1, 1, 0xff0000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        byte[] b = out.toByteArray();
        String sha;
        try {
            sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return new InputImage("asset_" + sha.substring(0, 8), sha, "image/png", b.length, w, h, null, () -> new ByteArrayInputStream(b));
    }

    RemoteStatus until(ProviderAccount a, Submitted s, Class<? extends RemoteStatus> kind) {
        RemoteStatus[] last = {null};
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(30)).until(() -> {
            last[0] = provider.poll(a, new RemoteRef(s.remoteId(), s.remote()));
            return kind.isInstance(last[0]);
        });
        return last[0];
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static BufferedImage decode(Download d) throws IOException {
        try (d; InputStream in = d.body()) {
            return ImageIO.read(in);
        }
    }

    @Test
    void aWorkflowRunsWithProgressOverTheWebsocketAndItsOutputIsFetchedFromView() throws IOException {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults().withLatency(Duration.ofMillis(800)));
        ProviderAccount a = account(e);
        Submitted s = provider.submit(a, request(PONY, Map.of(), Map.of("steps", 8)));
        assertThat(provider.websocketConnected(a)).isTrue();
        assertThat(e.submissions()).hasSize(1);
        assertThat(e.submissions().getFirst().clientId()).isEqualTo(s.remote().get("client_id").asString());
        assertThat(s.remoteId()).isEqualTo(e.submissions().getFirst().promptId());
        // Progress comes from the websocket while the sampler runs.
        double maxProgress = 0;
        RemoteStatus st;
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while ((st = provider.poll(a, new RemoteRef(s.remoteId(), s.remote()))) instanceof RemoteStatus.Pending p && System.nanoTime() < until) {
            maxProgress = Math.max(maxProgress, p.progress());
            sleep(20);
        }
        assertThat(maxProgress).isBetween(0.1, 0.99);
        RemoteStatus.Succeeded done = (RemoteStatus.Succeeded) st;
        assertThat(done.outputs()).hasSize(1);
        assertThat(done.outputs().getFirst().url()).contains("/view?filename=pony_00001_.png").contains("type=output");
        BufferedImage img = decode(provider.open(a, done.outputs().getFirst()));
        assertThat(img.getWidth()).isEqualTo(96);
        assertThat(img.getHeight()).isEqualTo(64);
    }

    @Test
    void withoutAWebsocketPollingTheHistoryAloneFinishesTheJob() throws IOException {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults().withLatency(Duration.ofMillis(200)));
        e.faults().refuseWebsockets(true);
        ProviderAccount a = account(e);
        Submitted s = provider.submit(a, request(PONY, Map.of(), Map.of()));
        assertThat(provider.websocketConnected(a)).isFalse();
        RemoteStatus.Succeeded done = (RemoteStatus.Succeeded) until(a, s, RemoteStatus.Succeeded.class);
        assertThat(decode(provider.open(a, done.outputs().getFirst())).getWidth()).isEqualTo(96);
    }

    @Test
    void aDroppedWebsocketFallsBackToTheHistory() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults().withLatency(Duration.ofMillis(600)));
        ProviderAccount a = account(e);
        Submitted s = provider.submit(a, request(PONY, Map.of(), Map.of()));
        e.dropWebsockets();
        assertThat(until(a, s, RemoteStatus.Succeeded.class)).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    @Test
    void namedInputImagesAreUploadedAndTheWorkflowNamesThem() throws IOException {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults());
        ProviderAccount a = account(e);
        InputImage ref = image(80, 120);
        Submitted s = provider.submit(a, request(IMG2IMG, Map.of("reference_image", List.of(ref)), Map.of()));
        assertThat(e.submissions().getFirst().prompt().get("11").get("inputs").get("image").asString()).isEqualTo(ref.fileName());
        RemoteStatus.Succeeded done = (RemoteStatus.Succeeded) until(a, s, RemoteStatus.Succeeded.class);
        BufferedImage img = decode(provider.open(a, done.outputs().getFirst()));
        assertThat(img.getWidth()).isEqualTo(80);
        assertThat(img.getHeight()).isEqualTo(120);
    }

    @Test
    void aRawWorkflowsImagesAreUploadedUnderTheirOwnNames() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults());
        ProviderAccount a = account(e);
        ObjectNode wf = (ObjectNode) Json.parse(IMG2IMG.replace("${images.reference_image[0]}", "photo.png")
                .replace("${prompt}", "raw").replace("${seed}", "7"));
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("workflow", wf);
        SubmitRequest r = new SubmitRequest("job_raw", 1, "comfyui-workflow", "workflow", "image", null, Json.parse("\"${workflow}\""),
                values, Map.of("photo.png", List.of(uncheckedImage(40, 30))), null, Instant.now().plusSeconds(60), Duration.ofSeconds(1));
        Submitted s = provider.submit(a, r);
        assertThat(until(a, s, RemoteStatus.Succeeded.class)).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    static InputImage uncheckedImage(int w, int h) {
        try {
            return image(w, h);
        } catch (IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    @Test
    void nodeErrorsAreRejectedNamingTheNodeItsClassAndTheError() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults());
        ProviderAccount a = account(e);
        String broken = PONY.replace("\"model\":[\"4\",0],", "");
        assertThatThrownBy(() -> provider.submit(a, request(broken, Map.of(), Map.of())))
                .isInstanceOfSatisfying(ProviderException.Rejected.class, ex -> {
                    assertThat(ex.getMessage()).contains("node 3 (KSampler)").contains("Required input is missing: model");
                    assertThat(ex.providerCode()).isEqualTo("prompt_outputs_failed_validation");
                });
        assertThat(e.submissions()).isEmpty();
    }

    @Test
    void aPromptQueuedWithNodeErrorsIsTakenBackAndFailsNamingTheSkippedOutput() {
        // ComfyUI answers 200 and queues only the outputs that passed validation, listing the others in node_errors.
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults().withLatency(Duration.ofSeconds(5)));
        ProviderAccount a = account(e);
        String partly = PONY.replace("\"9\":{\"class_type\":\"SaveImage\",\"inputs\":{\"filename_prefix\":\"pony\",\"images\":[\"8\",0]}}",
                "\"9\":{\"class_type\":\"SaveImage\",\"inputs\":{\"filename_prefix\":\"pony\",\"images\":[\"8\",0]}},"
                        + "\"12\":{\"class_type\":\"SaveImage\",\"inputs\":{\"filename_prefix\":\"lost\"}}");
        assertThatThrownBy(() -> provider.submit(a, request(partly, Map.of(), Map.of())))
                .isInstanceOfSatisfying(ProviderException.Rejected.class, ex -> {
                    assertThat(ex.getMessage()).contains("skip outputs that failed validation (output 12)")
                            .contains("node 12 (SaveImage)").contains("Required input is missing");
                    assertThat(ex.httpStatus()).isEqualTo(200);
                });
        String id = e.submissions().getFirst().promptId();
        // Taken back: removed from the queue, or interrupted if it had already started.
        assertThat(e.deletes().contains(id) || e.interrupts().contains(id)).isTrue();
    }

    @Test
    void anOlderServerThatPicksItsOwnPromptIdsIsFollowedReconciledAndCancelledSafely() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults().withLegacyServer(true));
        ProviderAccount a = account(e);
        SubmitRequest r = request(PONY, Map.of(), Map.of());
        Submitted s = provider.submit(a, r);
        assertThat(s.remoteId()).isNotEqualTo(ComfyUiProvider.promptId(r)).isEqualTo(e.submissions().getFirst().promptId());
        assertThat(until(a, s, RemoteStatus.Succeeded.class)).isInstanceOf(RemoteStatus.Succeeded.class);

        // A lost answer is found again by the job marker in extra_data.
        e.faults().malformPromptAnswers(1);
        SubmitRequest lost = request(PONY, Map.of(), Map.of("seed", 7));
        assertThatThrownBy(() -> provider.submit(a, lost)).isInstanceOf(ProviderException.Ambiguous.class);
        Reconciliation rec = provider.reconcile(a, lost, Instant.now());
        assertThat(rec).isInstanceOfSatisfying(Reconciliation.Found.class,
                f -> assertThat(f.submitted().remoteId()).isEqualTo(e.submissions().getLast().promptId()));

        // Its /interrupt stops whatever runs: cancelling a queued prompt must only delete it.
        e.faults().neverComplete(1);
        Submitted running = provider.submit(a, request(PONY, Map.of(), Map.of("seed", 8)));
        Submitted queued = provider.submit(a, request(PONY, Map.of(), Map.of("seed", 9)));
        await().atMost(Duration.ofSeconds(5)).until(() -> provider.poll(a, new RemoteRef(queued.remoteId(), queued.remote()))
                instanceof RemoteStatus.Pending p && p.queuePosition() != null && p.queuePosition() >= 1);
        provider.cancel(a, new RemoteRef(queued.remoteId(), queued.remote()));
        assertThat(e.deletes()).contains(queued.remoteId());
        assertThat(e.interrupts()).isEmpty();
        assertThat(provider.poll(a, new RemoteRef(running.remoteId(), running.remote()))).isInstanceOf(RemoteStatus.Pending.class);
        provider.cancel(a, new RemoteRef(running.remoteId(), running.remote()));
        assertThat(until(a, running, RemoteStatus.Canceled.class)).isInstanceOf(RemoteStatus.Canceled.class);
    }

    @Test
    void anExecutionErrorFailsTheJobNamingTheNode() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults());
        e.faults().failExecutions(1, "mat1 and mat2 shapes cannot be multiplied");
        ProviderAccount a = account(e);
        Submitted s = provider.submit(a, request(PONY, Map.of(), Map.of()));
        RemoteStatus.Failed f = (RemoteStatus.Failed) until(a, s, RemoteStatus.Failed.class);
        assertThat(f.code()).isEqualTo("comfyui_execution_error");
        assertThat(f.message()).contains("node 3 (KSampler)").contains("mat1 and mat2");
    }

    @Test
    void rateLimitsServerErrorsAndBadHistoryAnswersAreSortedForRetry() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults());
        ProviderAccount a = account(e);
        e.faults().rateLimitPrompts(1, Duration.ofSeconds(2));
        assertThatThrownBy(() -> provider.submit(a, request(PONY, Map.of(), Map.of())))
                .isInstanceOfSatisfying(ProviderException.RateLimited.class, ex -> assertThat(ex.retryAfter()).isEqualTo(Duration.ofSeconds(2)));
        e.faults().failPrompts(1);
        assertThatThrownBy(() -> provider.submit(a, request(PONY, Map.of(), Map.of()))).isInstanceOf(ProviderException.Unavailable.class);
        assertThat(e.submissions()).isEmpty();
        Submitted s = provider.submit(a, request(PONY, Map.of(), Map.of()));
        e.faults().failHistory(1);
        e.faults().refuseWebsockets(true);
        e.dropWebsockets();
        await().atMost(Duration.ofSeconds(5)).until(() -> !provider.websocketConnected(a));
        assertThatThrownBy(() -> provider.poll(a, new RemoteRef(s.remoteId(), s.remote()))).isInstanceOf(ProviderException.Unavailable.class);
        assertThat(until(a, s, RemoteStatus.Succeeded.class)).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    @Test
    void aMalformedSubmitAnswerIsAmbiguousAndReconciledByThePromptIdKilnChose() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults());
        ProviderAccount a = account(e);
        e.faults().malformPromptAnswers(1);
        SubmitRequest r = request(PONY, Map.of(), Map.of());
        assertThatThrownBy(() -> provider.submit(a, r)).isInstanceOf(ProviderException.Ambiguous.class);
        Reconciliation rec = provider.reconcile(a, r, Instant.now());
        assertThat(rec).isInstanceOf(Reconciliation.Found.class);
        Submitted found = ((Reconciliation.Found) rec).submitted();
        assertThat(found.remoteId()).isEqualTo(e.submissions().getFirst().promptId());
        assertThat(until(a, found, RemoteStatus.Succeeded.class)).isInstanceOf(RemoteStatus.Succeeded.class);
        // A request that never reached ComfyUI is provably absent: safe to send.
        assertThat(provider.reconcile(a, request(PONY, Map.of(), Map.of()), Instant.now())).isInstanceOf(Reconciliation.NotFound.class);
    }

    @Test
    void cancelInterruptsARunningPromptAndDeletesAQueuedOne() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults());
        ProviderAccount a = account(e);
        e.faults().neverComplete(1);
        Submitted running = provider.submit(a, request(PONY, Map.of(), Map.of()));
        Submitted queued = provider.submit(a, request(PONY, Map.of(), Map.of("seed", 43)));
        await().atMost(Duration.ofSeconds(5)).until(() -> provider.poll(a, new RemoteRef(running.remoteId(), running.remote()))
                instanceof RemoteStatus.Pending p && (p.queuePosition() == null || p.queuePosition() == 0));
        assertThat(provider.poll(a, new RemoteRef(queued.remoteId(), queued.remote()))).isInstanceOfSatisfying(RemoteStatus.Pending.class,
                p -> assertThat(p.queuePosition()).isEqualTo(1));
        provider.cancel(a, new RemoteRef(queued.remoteId(), queued.remote()));
        assertThat(e.deletes()).contains(queued.remoteId());
        provider.cancel(a, new RemoteRef(running.remoteId(), running.remote()));
        assertThat(e.interrupts()).contains(running.remoteId());
        RemoteStatus.Canceled c = (RemoteStatus.Canceled) until(a, running, RemoteStatus.Canceled.class);
        assertThat(c.message()).contains("interrupted");
        // The deleted prompt is gone from ComfyUI's records.
        assertThat(provider.poll(a, new RemoteRef(queued.remoteId(), queued.remote()))).isInstanceOfSatisfying(RemoteStatus.Failed.class,
                f -> assertThat(f.code()).isEqualTo("comfyui_lost"));
    }

    @Test
    void healthReadsSystemStatsAndAnUnreachableServerIsUnhealthy() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults());
        assertThat(provider.health(account(e)).ok()).isTrue();
        assertThat(provider.health(account(e)).message()).contains("ComfyUI");
        ProviderAccount dead = new ProviderAccount("x", "comfyui", "dead", "http://127.0.0.1:1", null, Map.of(), false);
        assertThat(provider.health(dead).ok()).isFalse();
    }

    @Test
    void aVideoWorkflowsFilesAreOutputs() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults());
        ProviderAccount a = account(e);
        String video = PONY.replace("\"EmptyLatentImage\",\"inputs\":{\"width\":\"${width}\",\"height\":\"${height}\",\"batch_size\":1}",
                        "\"EmptyHunyuanLatentVideo\",\"inputs\":{\"width\":\"${width}\",\"height\":\"${height}\",\"length\":9,\"batch_size\":1}")
                .replace("\"SaveImage\",\"inputs\":{\"filename_prefix\":\"pony\",\"images\":[\"8\",0]}",
                        "\"VHS_VideoCombine\",\"inputs\":{\"images\":[\"8\",0],\"frame_rate\":8,\"loop_count\":0,\"filename_prefix\":\"clip\","
                                + "\"format\":\"video/h264-mp4\",\"pingpong\":false,\"save_output\":true}");
        Submitted s = provider.submit(a, request(video, Map.of(), Map.of()));
        RemoteStatus.Succeeded done = (RemoteStatus.Succeeded) until(a, s, RemoteStatus.Succeeded.class);
        assertThat(done.outputs().getFirst().filename()).isEqualTo("clip_00001.mp4");
        assertThat(done.outputs().getFirst().mime()).isEqualTo("video/mp4");

        Submitted gif = provider.submit(a, request(video.replace("video/h264-mp4", "image/gif"), Map.of(), Map.of("seed", 7)));
        RemoteStatus.Succeeded g = (RemoteStatus.Succeeded) until(a, gif, RemoteStatus.Succeeded.class);
        assertThat(g.outputs().getFirst().filename()).startsWith("clip_").endsWith(".gif");
        assertThat(g.outputs().getFirst().mime()).isEqualTo("image/gif");
    }

    static Work work(String workflow) {
        return new Work("m", "txt2img", "image", () -> Json.parse(workflow));
    }

    /**
     * The health check reads /object_info: the files of each model folder and the node classes,
     * including which inputs of a custom loader list a folder (CheckpointLoaderNF4's ckpt_name is
     * the checkpoints list) and a V3 node's ["COMBO", {"options"}]. A workflow naming anything else
     * falls short exactly where the server would refuse it.
     */
    @Test
    void healthReadsWhatTheServerHasAndAWorkflowNeedingAnythingElseFallsShortWhereComfyUiWouldRefuse() {
        ComfyUiEmulator e = emulator(ComfyUiEmulator.Config.defaults().withInventory(ComfyInventory.empty()
                .withCustomNodes("CheckpointLoaderNF4").withModels("loras", "detail.safetensors").withModels("upscale_models", "4x.pth")));
        ProviderAccount a = account(e);
        Health h = provider.health(a);
        assertThat(h.ok()).isTrue();
        JsonNode caps = h.capabilities();
        assertThat(caps.get("source").asString()).isEqualTo("object_info");
        assertThat(caps.get("folders").get("checkpoints").toString()).isEqualTo("[\"pony.safetensors\"]");
        assertThat(caps.get("folders").get("upscale_models").toString()).isEqualTo("[\"4x.pth\"]");
        assertThat(caps.get("folders").get("diffusion_models")).isEmpty();
        assertThat(caps.get("nodes").get("CheckpointLoaderNF4").get("ckpt_name").asString()).isEqualTo("checkpoints");
        assertThat(caps.get("nodes").has("KSampler")).isTrue();
        assertThat(caps.get("nodes").has("VHS_VideoCombine")).isFalse();
        assertThat(h.message()).contains("checkpoints");

        assertThat(provider.shortfalls(a, caps, work(PONY))).isEmpty();
        String wanting = PONY.replace("pony.safetensors", "other.safetensors").replace("\"9\":{", """
                "20":{"class_type":"CheckpointLoaderNF4","inputs":{"ckpt_name":"nf4.safetensors"}},
                "21":{"class_type":"LoraLoaderModelOnly","inputs":{"model":["20",0],"lora_name":"detail.safetensors","strength_model":1}},
                "22":{"class_type":"UNETLoader","inputs":{"unet_name":"flux.safetensors","weight_dtype":"default"}},
                "30":{"class_type":"VHS_VideoCombine","inputs":{"images":["8",0]}},
                "9":{""");
        assertThat(provider.shortfalls(a, caps, work(wanting))).containsExactlyInAnyOrder(
                new Shortfall("4.inputs.ckpt_name", "'other.safetensors' is not in its models/checkpoints folder (it holds pony.safetensors)"),
                new Shortfall("20.inputs.ckpt_name", "'nf4.safetensors' is not in its models/checkpoints folder (it holds pony.safetensors)"),
                new Shortfall("22.inputs.unet_name", "'flux.safetensors' is not in its models/diffusion_models folder (it holds none)"),
                new Shortfall("30.class_type", "node class 'VHS_VideoCombine' is not installed (a custom node?)"));
        // What Kiln says is missing is what the server refuses.
        assertThatThrownBy(() -> provider.submit(a, request(wanting, Map.of(), Map.of())))
                .isInstanceOfSatisfying(ProviderException.Rejected.class, x -> assertThat(x.getMessage()).contains("VHS_VideoCombine"));
        assertThatThrownBy(() -> provider.submit(a, request(PONY.replace("pony.safetensors", "other.safetensors"), Map.of(), Map.of())))
                .isInstanceOfSatisfying(ProviderException.Rejected.class, x -> assertThat(x.getMessage())
                        .contains("node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: 'other.safetensors' not in ['pony.safetensors']"));
        // Nothing known, nothing refused: the server's own answer decides.
        assertThat(provider.shortfalls(a, null, work(wanting))).isEmpty();

        e.faults().failObjectInfo(1);
        Health unknown = provider.health(a);
        assertThat(unknown.ok()).isTrue();
        assertThat(unknown.capabilities()).isNull();
        assertThat(unknown.message()).contains("unknown").contains("500");
    }
}

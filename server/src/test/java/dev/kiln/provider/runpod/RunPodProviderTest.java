package dev.kiln.provider.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.emulator.runpod.RunPodEmulator;
import dev.kiln.provider.Download;
import dev.kiln.provider.InputImage;
import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.ProviderException;
import dev.kiln.provider.ProviderHttp;
import dev.kiln.provider.Reconciliation;
import dev.kiln.provider.RemoteRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Shortfall;
import dev.kiln.provider.Submitted;
import dev.kiln.provider.Work;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.provider.WebhookNotice;
import dev.kiln.provider.WebhookRejected;
import dev.kiln.support.Json;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The RunPod adapter against the RunPod (worker-comfyui) emulator, over real HTTP. */
class RunPodProviderTest {
    static final String KEY = "rp-test-key";
    static final String ENDPOINT = "ep123";
    static final String PONY = """
            {"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"pony.safetensors"}},
             "6":{"class_type":"CLIPTextEncode","inputs":{"text":"${prompt}","clip":["4",1]}},
             "5":{"class_type":"EmptyLatentImage","inputs":{"width":"${width}","height":"${height}","batch_size":1}},
             "3":{"class_type":"KSampler","inputs":{"seed":"${seed}","steps":4,"cfg":6,"sampler_name":"euler","scheduler":"normal",
                  "denoise":1.0,"model":["4",0],"positive":["6",0],"negative":["6",0],"latent_image":["5",0]}},
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
    static final String VIDEO = PONY
            .replace("\"EmptyLatentImage\",\"inputs\":{\"width\":\"${width}\",\"height\":\"${height}\",\"batch_size\":1}",
                    "\"EmptyHunyuanLatentVideo\",\"inputs\":{\"width\":\"${width}\",\"height\":\"${height}\",\"length\":9,\"batch_size\":1}")
            .replace("\"9\":{\"class_type\":\"SaveImage\",\"inputs\":{\"filename_prefix\":\"pony\",\"images\":[\"8\",0]}}",
                    "\"60\":{\"class_type\":\"VHS_VideoCombine\",\"inputs\":{\"images\":[\"8\",0],\"frame_rate\":8,\"loop_count\":0,"
                            + "\"filename_prefix\":\"clip\",\"format\":\"video/h264-mp4\",\"pingpong\":false,\"save_output\":true}}");

    final ProviderHttp http = new ProviderHttp(Duration.ofSeconds(2));
    final RunPodProvider provider = new RunPodProvider(http, RunPodConfig.defaults());
    final List<AutoCloseable> closeables = new ArrayList<>();
    int jobs;

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeables.reversed()) c.close();
    }

    RunPodEmulator emulator(RunPodEmulator.Config c) {
        RunPodEmulator e = RunPodEmulator.start(c.withModels("checkpoints", "pony.safetensors"));
        closeables.add(e);
        return e;
    }

    RunPodEmulator emulator() {
        return emulator(RunPodEmulator.Config.defaults(KEY, ENDPOINT).withWebhookRetries(3, Duration.ofMillis(50)));
    }

    static ProviderAccount account(RunPodEmulator e) {
        return new ProviderAccount("acct-rp", "runpod", "test", e.baseUrl(), KEY, Map.of("endpoint_id", ENDPOINT), false);
    }

    SubmitRequest request(String template, Map<String, List<InputImage>> images, String webhook, Instant deadline) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("prompt", "a red fox in snow");
        values.put("width", 96);
        values.put("height", 64);
        values.put("seed", 42);
        return new SubmitRequest("job_" + (++jobs), 1, "pony-v6-xl", "txt2img", "image", null, Json.parse(template), values, images,
                webhook, deadline, Duration.ofSeconds(1));
    }

    SubmitRequest request(String template) {
        return request(template, Map.of(), null, Instant.now().plusSeconds(120));
    }

    RemoteStatus until(ProviderAccount a, Submitted s, Class<? extends RemoteStatus> kind) {
        RemoteStatus[] last = {null};
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(30)).until(() -> {
            last[0] = provider.poll(a, new RemoteRef(s.remoteId(), s.remote()));
            return kind.isInstance(last[0]);
        });
        return last[0];
    }

    static InputImage image(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        byte[] b = out.toByteArray();
        String sha;
        try {
            sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return new InputImage("asset_" + sha.substring(0, 8), sha, "image/png", b.length, img.getWidth(), img.getHeight(), null,
                () -> new ByteArrayInputStream(b));
    }

    static BufferedImage decode(Download d) throws IOException {
        try (d; InputStream in = d.body()) {
            return ImageIO.read(in);
        }
    }

    @Test
    void aWorkflowRunsAndItsBase64OutputIsStoredWithAPolicyFromTheDeadline() throws IOException {
        RunPodEmulator e = emulator();
        ProviderAccount a = account(e);
        Instant deadline = Instant.now().plusSeconds(300);
        Submitted s = provider.submit(a, request(PONY, Map.of(), "http://127.0.0.1:9/webhooks/runpod?token=t", deadline));
        RunPodEmulator.Submission sub = e.submissions().getFirst();
        assertThat(sub.id()).isEqualTo(s.remoteId());
        assertThat(sub.webhook()).isEqualTo("http://127.0.0.1:9/webhooks/runpod?token=t");
        assertThat(sub.policy().get("executionTimeout").asLong()).isBetween(290_000L, 300_000L);
        assertThat(sub.policy().get("ttl").asLong()).isBetween(290_000L + 1_800_000L, 300_000L + 1_800_000L);
        assertThat(sub.input().get("workflow").get("6").get("inputs").get("text").asString()).isEqualTo("a red fox in snow");
        RemoteStatus.Succeeded done = (RemoteStatus.Succeeded) until(a, s, RemoteStatus.Succeeded.class);
        assertThat(done.outputs()).hasSize(1);
        assertThat(done.outputs().getFirst().isInline()).isTrue();
        assertThat(done.outputs().getFirst().filename()).isEqualTo("pony_00001_.png");
        assertThat(done.outputs().getFirst().mime()).isEqualTo("image/png");
        BufferedImage img = decode(provider.open(a, done.outputs().getFirst()));
        assertThat(img.getWidth()).isEqualTo(96);
        assertThat(img.getHeight()).isEqualTo(64);
    }

    @Test
    void inputImagesTravelInlineUnderTheNameTheWorkflowUses() throws IOException {
        RunPodEmulator e = emulator();
        ProviderAccount a = account(e);
        InputImage ref = image(new BufferedImage(72, 40, BufferedImage.TYPE_INT_RGB));
        Submitted s = provider.submit(a, request(IMG2IMG, Map.of("reference_image", List.of(ref)), null, Instant.now().plusSeconds(60)));
        JsonNode input = e.submissions().getFirst().input();
        assertThat(input.get("images").get(0).get("name").asString()).isEqualTo(ref.fileName());
        assertThat(input.get("images").get(0).get("image").asString()).startsWith("data:image/png;base64,");
        assertThat(input.get("workflow").get("11").get("inputs").get("image").asString()).isEqualTo(ref.fileName());
        RemoteStatus.Succeeded done = (RemoteStatus.Succeeded) until(a, s, RemoteStatus.Succeeded.class);
        assertThat(decode(provider.open(a, done.outputs().getFirst())).getWidth()).isEqualTo(72);

        // A raw workflow's image is sent under its own name.
        ObjectNode raw = (ObjectNode) Json.parse(IMG2IMG.replace("${images.reference_image[0]}", "photo.png")
                .replace("${prompt}", "raw").replace("${seed}", "1"));
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("workflow", raw);
        Submitted s2 = provider.submit(a, new SubmitRequest("job_raw", 1, "comfyui-workflow", "workflow", "image", null,
                Json.parse("\"${workflow}\""), values, Map.of("photo.png", List.of(ref)), null, Instant.now().plusSeconds(60), Duration.ZERO));
        assertThat(e.submissions().get(1).input().get("images").get(0).get("name").asString()).isEqualTo("photo.png");
        assertThat(until(a, s2, RemoteStatus.Succeeded.class)).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    @Test
    void workerErrorsAreSurfacedInTheJobError() {
        RunPodEmulator e = emulator();
        ProviderAccount a = account(e);
        Submitted invalid = provider.submit(a, request(PONY.replace("\"model\":[\"4\",0],", "")));
        RemoteStatus.Failed f = (RemoteStatus.Failed) until(a, invalid, RemoteStatus.Failed.class);
        assertThat(f.message()).startsWith("Workflow validation failed:\n• Node 3 (errors)").contains("Required input is missing")
                .contains("Node 3 (class_type): KSampler");
        assertThat(f.retryable()).isFalse();

        e.faults().failJobs(1, "ComfyUI server (127.0.0.1:8188) not reachable after multiple retries.");
        RemoteStatus.Failed down = (RemoteStatus.Failed) until(a, provider.submit(a, request(PONY)), RemoteStatus.Failed.class);
        assertThat(down.message()).contains("not reachable");
        assertThat(down.retryable()).isTrue();
    }

    @Test
    void anExecutionErrorNamesTheNode() {
        RunPodEmulator e = emulator(RunPodEmulator.Config.defaults(KEY, ENDPOINT).withFailRate(1.0));
        ProviderAccount a = account(e);
        RemoteStatus.Failed f = (RemoteStatus.Failed) until(a, provider.submit(a, request(PONY)), RemoteStatus.Failed.class);
        assertThat(f.message()).startsWith("Job processing failed: Workflow execution error: Node Type: KSampler, Node ID: 3, Message: ");
        assertThat(f.retryable()).isTrue(); // out of memory
    }

    @Test
    void videoFilesComeBackOnlyFromAWorkerThatReturnsThem() {
        // The stock worker (the emulator's default) drops a video node's "gifs" and, as handler.py
        // does, ends COMPLETED with success_no_images: the GPU time is spent and no file comes back.
        RunPodEmulator stock = emulator();
        ProviderAccount b = account(stock);
        Submitted s = provider.submit(b, request(VIDEO));
        RemoteStatus.Failed f = (RemoteStatus.Failed) until(b, s, RemoteStatus.Failed.class);
        assertThat(stock.status(s.remoteId())).isEqualTo("COMPLETED");
        assertThat(f.code()).isEqualTo("runpod_no_outputs");
        assertThat(f.message()).contains("the worker returned no files").contains("'gifs'");
        assertThat(f.retryable()).isFalse();

        RunPodEmulator custom = emulator(RunPodEmulator.Config.defaults(KEY, ENDPOINT).withVideoOutputs(true));
        ProviderAccount a = account(custom);
        RemoteStatus.Succeeded done = (RemoteStatus.Succeeded) until(a, provider.submit(a, request(VIDEO)), RemoteStatus.Succeeded.class);
        assertThat(done.outputs().getFirst().filename()).isEqualTo("clip_00001.mp4");
        assertThat(done.outputs().getFirst().mime()).isEqualTo("video/mp4");
    }

    static Work work(String workflow) {
        return new Work("m", "t2v", "video", () -> Json.parse(workflow));
    }

    /**
     * A worker cannot be asked what it has, so the account's settings say it: without
     * video_outputs: true a workflow saving through VHS_VideoCombine falls short (the stock worker
     * would drop its file), and comfy_models / comfy_nodes, when set, are checked as ComfyUI's
     * /object_info would be. Without them nothing is known and nothing falls short.
     */
    @Test
    void theAccountsSettingsSayWhatItsWorkerCanRun() {
        ProviderAccount stock = new ProviderAccount("a", "runpod", "stock", "http://127.0.0.1:1", KEY,
                Map.of("endpoint_id", ENDPOINT, "video_outputs", "false"), false);
        assertThat(provider.shortfalls(stock, null, work(PONY))).isEmpty();
        assertThat(provider.shortfalls(stock, null, work(VIDEO))).containsExactly(new Shortfall("60.class_type",
                "VHS_VideoCombine saves its video under 'gifs', which the stock worker-comfyui does not return; "
                        + "this endpoint's worker is not set video_outputs: true"));
        ProviderAccount unset = new ProviderAccount("a", "runpod", "unset", "http://127.0.0.1:1", KEY, Map.of("endpoint_id", ENDPOINT), false);
        assertThat(provider.shortfalls(unset, null, work(VIDEO))).hasSize(1);
        ProviderAccount custom = new ProviderAccount("a", "runpod", "custom", "http://127.0.0.1:1", KEY,
                Map.of("endpoint_id", ENDPOINT, "video_outputs", "true"), false);
        assertThat(provider.shortfalls(custom, null, work(VIDEO))).isEmpty();

        ProviderAccount declared = new ProviderAccount("a", "runpod", "declared", "http://127.0.0.1:1", KEY,
                Map.of("endpoint_id", ENDPOINT, "video_outputs", "true",
                        "comfy_models", "checkpoints/pony.safetensors, vae/wan.safetensors",
                        "comfy_nodes", "CheckpointLoaderSimple,CLIPTextEncode,EmptyHunyuanLatentVideo,KSampler,VAEDecode,SaveImage"), false);
        assertThat(provider.shortfalls(declared, null, work(PONY.replace("EmptyLatentImage", "EmptyHunyuanLatentVideo")))).isEmpty();
        assertThat(provider.shortfalls(declared, null, work(VIDEO.replace("pony.safetensors", "sdxl.safetensors")))).containsExactly(
                new Shortfall("4.inputs.ckpt_name", "'sdxl.safetensors' is not in its models/checkpoints folder (it holds pony.safetensors)"),
                new Shortfall("60.class_type", "node class 'VHS_VideoCombine' is not installed (a custom node?)"));
    }

    @Test
    void aWorkerWithABucketAnswersPresignedS3UrlsThatAreDownloadedWithoutTheKey() throws IOException {
        RunPodEmulator e = emulator(RunPodEmulator.Config.defaults(KEY, ENDPOINT).withS3Outputs(true));
        ProviderAccount a = account(e);
        Submitted s = provider.submit(a, request(PONY));
        RemoteStatus.Succeeded done = (RemoteStatus.Succeeded) until(a, s, RemoteStatus.Succeeded.class);
        var out = done.outputs().getFirst();
        assertThat(out.isInline()).isFalse();
        assertThat(out.url()).startsWith(e.baseUrl().replace("/v2", "/s3/")).contains("/" + s.remoteId() + "/").contains("X-Amz-Signature=");
        assertThat(out.filename()).isEqualTo("pony_00001_.png");
        BufferedImage img = decode(provider.open(a, out));
        assertThat(img.getWidth()).isEqualTo(96);
        assertThat(img.getHeight()).isEqualTo(64);
    }

    @Test
    void rateLimitsServerErrorsAndMalformedAnswersAreSorted() {
        RunPodEmulator e = emulator();
        ProviderAccount a = account(e);
        e.faults().rateLimitRuns(1, Duration.ofSeconds(3));
        assertThatThrownBy(() -> provider.submit(a, request(PONY))).isInstanceOfSatisfying(ProviderException.RateLimited.class,
                ex -> assertThat(ex.retryAfter()).isEqualTo(Duration.ofSeconds(3)));
        e.faults().failRuns(1);
        assertThatThrownBy(() -> provider.submit(a, request(PONY))).isInstanceOf(ProviderException.Unavailable.class);
        assertThat(e.submissions()).isEmpty();
        e.faults().malformRunAnswers(1);
        SubmitRequest r = request(PONY);
        assertThatThrownBy(() -> provider.submit(a, r)).isInstanceOf(ProviderException.Ambiguous.class);
        assertThat(provider.reconcile(a, r, Instant.now())).isInstanceOf(Reconciliation.Unknown.class);

        Submitted s = provider.submit(a, request(PONY));
        RemoteRef ref = new RemoteRef(s.remoteId(), s.remote());
        e.faults().rateLimitStatus(1);
        assertThatThrownBy(() -> provider.poll(a, ref)).isInstanceOf(ProviderException.RateLimited.class);
        e.faults().failStatus(1);
        assertThatThrownBy(() -> provider.poll(a, ref)).isInstanceOf(ProviderException.Unavailable.class);
        e.faults().malformStatus(1);
        assertThatThrownBy(() -> provider.poll(a, ref)).isInstanceOf(ProviderException.Malformed.class);
        assertThat(until(a, s, RemoteStatus.Succeeded.class)).isInstanceOf(RemoteStatus.Succeeded.class);
        assertThatThrownBy(() -> provider.poll(a, new RemoteRef("nope", s.remote()))).isInstanceOf(ProviderException.NotFound.class);
    }

    @Test
    void aBodyOverTenMegabytesIsRefusedBeforeSendingAndByRunPod() throws IOException {
        RunPodEmulator e = emulator();
        ProviderAccount a = account(e);
        BufferedImage noise = new BufferedImage(1800, 1800, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(1);
        for (int y = 0; y < 1800; y++) for (int x = 0; x < 1800; x++) noise.setRGB(x, y, rnd.nextInt());
        InputImage big = image(noise);
        assertThat(big.size()).isGreaterThan(7_900_000L);
        SubmitRequest r = request(IMG2IMG, Map.of("reference_image", List.of(big)), null, Instant.now().plusSeconds(60));
        assertThatThrownBy(() -> provider.submit(a, r)).isInstanceOfSatisfying(ProviderException.Rejected.class, ex -> {
            assertThat(ex.getMessage()).contains("10 MB limit (10,000,000 bytes");
            assertThat(ex.providerCode()).isEqualTo("payload_too_large");
        });
        assertThat(e.submissions()).isEmpty();
        // Without Kiln's own check, RunPod's limit answers 413, which is refused just the same.
        RunPodConfig d = RunPodConfig.defaults();
        RunPodProvider unchecked = new RunPodProvider(http, new RunPodConfig(d.submitTimeout(), d.callTimeout(), d.downloadTimeout(),
                100L << 20, d.resultMargin(), d.imagePolls(), d.videoPolls(), d.sandboxPolls()));
        assertThatThrownBy(() -> unchecked.submit(a, r)).isInstanceOfSatisfying(ProviderException.Rejected.class,
                ex -> assertThat(ex.httpStatus()).isEqualTo(413));
        assertThat(e.submissions()).isEmpty();
    }

    @Test
    void theLimitIsTenMillionBytesNotTenMebibytes() {
        RunPodEmulator e = emulator();
        ProviderAccount a = account(e);
        byte[] blob = new byte[7_650_000]; // 10,200,000 characters of base64: over 10 MB, under 10 MiB
        new Random(2).nextBytes(blob);
        InputImage img = new InputImage("asset_blob", "cd".repeat(32), "image/png", blob.length, 10, 10, null,
                () -> new ByteArrayInputStream(blob));
        SubmitRequest r = request(IMG2IMG, Map.of("reference_image", List.of(img)), null, Instant.now().plusSeconds(60));
        assertThatThrownBy(() -> provider.submit(a, r)).isInstanceOfSatisfying(ProviderException.Rejected.class,
                ex -> assertThat(ex.providerCode()).isEqualTo("payload_too_large"));
        RunPodConfig d = RunPodConfig.defaults();
        RunPodProvider unchecked = new RunPodProvider(http, new RunPodConfig(d.submitTimeout(), d.callTimeout(), d.downloadTimeout(),
                100L << 20, d.resultMargin(), d.imagePolls(), d.videoPolls(), d.sandboxPolls()));
        assertThatThrownBy(() -> unchecked.submit(a, r)).isInstanceOfSatisfying(ProviderException.Rejected.class,
                ex -> assertThat(ex.httpStatus()).isEqualTo(413));
        assertThat(e.submissions()).isEmpty();
    }

    @Test
    void cancelStopsAJobThatNeverCompletes() {
        RunPodEmulator e = emulator();
        ProviderAccount a = account(e);
        e.faults().neverComplete(1);
        Submitted s = provider.submit(a, request(PONY));
        await().atMost(Duration.ofSeconds(5)).until(() -> "IN_PROGRESS".equals(e.status(s.remoteId())));
        assertThat(provider.poll(a, new RemoteRef(s.remoteId(), s.remote()))).isInstanceOf(RemoteStatus.Pending.class);
        provider.cancel(a, new RemoteRef(s.remoteId(), s.remote()));
        assertThat(e.cancels()).containsExactly(s.remoteId());
        assertThat(provider.poll(a, new RemoteRef(s.remoteId(), s.remote()))).isInstanceOf(RemoteStatus.Canceled.class);
        provider.cancel(a, new RemoteRef("unknown-job", s.remote())); // not an error
    }

    @Test
    void theExecutionTimeoutOfThePolicyEndsAStuckJob() {
        RunPodEmulator e = emulator();
        ProviderAccount a = account(e);
        e.faults().neverComplete(1);
        // A deadline 1 s away still gets an executionTimeout RunPod accepts: more than 5000 ms.
        Submitted s = provider.submit(a, request(PONY, Map.of(), null, Instant.now().plusSeconds(1)));
        assertThat(e.submissions().getFirst().policy().get("executionTimeout").asLong()).isEqualTo(5001);
        RemoteStatus.Failed f = (RemoteStatus.Failed) until(a, s, RemoteStatus.Failed.class);
        assertThat(f.code()).isEqualTo("runpod_timed_out");
    }

    @Test
    void webhooksArriveOnceAtTheEndAndAreReadAsHintsNamingTheJob() throws IOException {
        List<byte[]> received = new CopyOnWriteArrayList<>();
        HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/", x -> {
            received.add(x.getRequestBody().readAllBytes());
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        hook.start();
        closeables.add(() -> hook.stop(0));
        RunPodEmulator e = emulator();
        ProviderAccount a = account(e);
        String url = "http://127.0.0.1:" + hook.getAddress().getPort() + "/webhooks/runpod?token=abc";
        Submitted s = provider.submit(a, request(PONY, Map.of(), url, Instant.now().plusSeconds(60)));
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
        WebhookNotice n = provider.verifyWebhook(a, new WebhookDelivery(Map.of(), received.getFirst(), Instant.now()));
        assertThat(n.remoteId()).isEqualTo(s.remoteId());
        assertThat(Json.MAPPER.readTree(received.getFirst()).get("status").asString()).isEqualTo("COMPLETED");

        e.faults().duplicateWebhooks(1).outOfOrderWebhooks(1);
        provider.submit(a, request(PONY, Map.of(), url, Instant.now().plusSeconds(60)));
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 4);
        assertThat(Json.MAPPER.readTree(received.get(3)).get("status").asString()).isEqualTo("IN_PROGRESS");

        for (String forged : List.of("not json", "{}", "{\"id\":\"x\"}", "{\"id\":\"x\",\"status\":\"HACKED\"}", "[1]")) {
            assertThatThrownBy(() -> provider.verifyWebhook(a, new WebhookDelivery(Map.of(), forged.getBytes(StandardCharsets.UTF_8), Instant.now())))
                    .isInstanceOf(WebhookRejected.class);
        }
    }

    @Test
    void aWrongKeyOrEndpointIsAnAccountProblem() {
        RunPodEmulator e = emulator();
        ProviderAccount wrongKey = new ProviderAccount("x", "runpod", "bad", e.baseUrl(), "nope", Map.of("endpoint_id", ENDPOINT), false);
        assertThatThrownBy(() -> provider.submit(wrongKey, request(PONY))).isInstanceOf(ProviderException.AuthFailed.class);
        assertThat(provider.health(wrongKey).ok()).isFalse();
        ProviderAccount wrongEndpoint = new ProviderAccount("y", "runpod", "bad", e.baseUrl(), KEY, Map.of("endpoint_id", "other"), false);
        assertThatThrownBy(() -> provider.submit(wrongEndpoint, request(PONY))).isInstanceOf(ProviderException.AuthFailed.class);
        assertThat(provider.health(wrongEndpoint).ok()).isFalse();
        assertThat(provider.health(account(e)).ok()).isTrue();
        assertThat(provider.health(account(e)).message()).contains("workers idle 4");
        ProviderAccount noEndpoint = new ProviderAccount("z", "runpod", "bad", e.baseUrl(), KEY, Map.of(), false);
        assertThatThrownBy(() -> provider.submit(noEndpoint, request(PONY))).isInstanceOf(ProviderException.Rejected.class);
    }
}

package dev.kiln.emulator.comfyui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.support.Json;
import dev.kiln.emulator.testing.Http;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The ComfyUI emulator's HTTP API and websocket, spoken to directly as ComfyUI clients do. */
class ComfyUiEmulatorTest {
    static final String GRAPH = """
            {"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"m.safetensors"}},
             "6":{"class_type":"CLIPTextEncode","inputs":{"text":"a cat","clip":["4",1]}},
             "5":{"class_type":"EmptyLatentImage","inputs":{"width":64,"height":32,"batch_size":2}},
             "3":{"class_type":"KSampler","inputs":{"seed":1,"steps":3,"cfg":6,"sampler_name":"euler","scheduler":"normal","denoise":1,
                  "model":["4",0],"positive":["6",0],"negative":["6",0],"latent_image":["5",0]}},
             "8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},
             "9":{"class_type":"SaveImage","inputs":{"filename_prefix":"cat","images":["8",0]}}}""";

    ComfyUiEmulator emulator;
    final List<WebSocket> sockets = new ArrayList<>();
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @AfterEach
    void close() {
        sockets.forEach(WebSocket::abort);
        if (emulator != null) emulator.close();
        client.close();
    }

    Http start(ComfyUiEmulator.Config c) {
        emulator = ComfyUiEmulator.start(c.withModels("checkpoints", "m.safetensors"));
        return new Http(emulator.baseUrl());
    }

    List<JsonNode> listen(String clientId) throws Exception {
        List<JsonNode> got = new CopyOnWriteArrayList<>();
        StringBuilder partial = new StringBuilder();
        WebSocket ws = client.newWebSocketBuilder().buildAsync(URI.create(emulator.baseUrl().replace("http", "ws") + "/ws?clientId=" + clientId),
                new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            got.add(Json.parse(partial.toString()));
                            partial.setLength(0);
                        }
                        w.request(1);
                        return null;
                    }
                }).get(5, TimeUnit.SECONDS);
        sockets.add(ws);
        return got;
    }

    static String prompt(String graph, String clientId) {
        return "{\"prompt\":" + graph + (clientId == null ? "" : ",\"client_id\":\"" + clientId + "\"") + "}";
    }

    @Test
    void theWebsocketTellsTheClientEveryStepAndEndsWithExecutingNullAfterTheHistoryIsWritten() throws Exception {
        Http http = start(ComfyUiEmulator.Config.defaults().withLatency(Duration.ofMillis(150)));
        List<JsonNode> got = listen("c1");
        await().atMost(Duration.ofSeconds(5)).until(() -> !got.isEmpty());
        assertThat(got.getFirst().get("type").asString()).isEqualTo("status");
        assertThat(got.getFirst().get("data").get("sid").asString()).isEqualTo("c1");
        Http.Answer a = http.post("/prompt", prompt(GRAPH, "c1"));
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        String id = a.json().get("prompt_id").asString();
        assertThat(a.json().get("node_errors").isEmpty()).isTrue();
        String[] historyAtEnd = {null};
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            boolean end = got.stream().anyMatch(m -> m.get("type").asString().equals("executing") && m.get("data").get("node").isNull());
            if (end && historyAtEnd[0] == null) historyAtEnd[0] = http.get("/history/" + id).text();
            return end;
        });
        List<String> types = got.stream().filter(m -> !m.get("type").asString().equals("status"))
                .map(m -> m.get("type").asString() + (m.get("type").asString().equals("executing") ? " " + m.get("data").get("node") : "")).toList();
        assertThat(types).containsSubsequence("execution_start", "execution_cached", "executing \"3\"", "progress", "progress", "progress",
                "executing \"9\"", "executed", "execution_success", "executing null");
        JsonNode executed = got.stream().filter(m -> m.get("type").asString().equals("executed")).findFirst().orElseThrow().get("data");
        assertThat(executed.get("prompt_id").asString()).isEqualTo(id);
        assertThat(executed.get("output").get("images")).hasSize(2);
        JsonNode h = Json.parse(historyAtEnd[0]).get(id);
        assertThat(h.get("status").get("status_str").asString()).isEqualTo("success");
        assertThat(h.get("outputs").get("9").get("images").get(1).get("filename").asString()).isEqualTo("cat_00002_.png");
        Http.Answer file = http.get("/view?filename=cat_00002_.png&subfolder=&type=output");
        assertThat(file.status()).isEqualTo(200);
        assertThat(file.header("content-type")).isEqualTo("image/png");
    }

    @Test
    void executionMessagesGoOnlyToThePromptsClient() throws Exception {
        Http http = start(ComfyUiEmulator.Config.defaults());
        List<JsonNode> other = listen("someone-else");
        String id = http.post("/prompt", prompt(GRAPH, null)).json().get("prompt_id").asString();
        await().atMost(Duration.ofSeconds(5)).until(() -> !http.get("/history/" + id).json().isEmpty());
        assertThat(other).allSatisfy(m -> assertThat(m.get("type").asString()).isEqualTo("status"));
    }

    @Test
    void refusedPromptsAnswer400WithNodeErrors() {
        Http http = start(ComfyUiEmulator.Config.defaults());
        Http.Answer a = http.post("/prompt", prompt(GRAPH.replace("\"clip\":[\"4\",1]", "\"clip\":[\"77\",1]"), "c"));
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.json().get("error").get("type").asString()).isEqualTo("prompt_outputs_failed_validation");
        assertThat(a.json().get("node_errors").get("6").get("class_type").asString()).isEqualTo("CLIPTextEncode");
        Http.Answer none = http.post("/api/prompt", "{}");
        assertThat(none.status()).isEqualTo(400);
        assertThat(none.json().get("error").get("type").asString()).isEqualTo("no_prompt");
        assertThat(http.post("/prompt", "not json").status()).isEqualTo(400);
    }

    @Test
    void uploadsKeepOrRenumberNamesAsComfyUiDoes() {
        Http http = start(ComfyUiEmulator.Config.defaults());
        assertThat(upload(http, "x.png", "one", false).get("name").asString()).isEqualTo("x.png");
        assertThat(upload(http, "x.png", "one", false).get("name").asString()).isEqualTo("x.png");
        assertThat(upload(http, "x.png", "two", false).get("name").asString()).isEqualTo("x (1).png");
        assertThat(upload(http, "x.png", "three", true).get("name").asString()).isEqualTo("x.png");
        assertThat(http.get("/view?filename=x.png&type=input").text()).isEqualTo("three");
        assertThat(http.get("/view?filename=..%2Fsecret&type=input").status()).isEqualTo(400);
        assertThat(http.get("/view?filename=x.png&subfolder=..&type=input").status()).isEqualTo(403);
        assertThat(http.get("/view?filename=nope.png").status()).isEqualTo(404);
        JsonNode info = http.get("/object_info").json();
        assertThat(info.get("LoadImage").get("input").get("required").get("image").get(0)).hasSize(2);
        assertThat(info.get("KSampler").get("output").get(0).asString()).isEqualTo("LATENT");
        assertThat(http.get("/object_info/KSampler").json().has("KSampler")).isTrue();
        assertThat(http.get("/system_stats").json().get("system").get("comfyui_version").asString()).contains("Kiln sandbox");
    }

    static JsonNode upload(Http http, String name, String content, boolean overwrite) {
        String b = "----kiln";
        String body = "--" + b + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + name + "\"\r\nContent-Type: image/png\r\n\r\n"
                + content + "\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\n" + overwrite + "\r\n--" + b + "--\r\n";
        Http.Answer a = http.postRaw("/upload/image", "multipart/form-data; boundary=" + b, body.getBytes(StandardCharsets.UTF_8));
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a.json();
    }

    @Test
    void theQueueShowsRunningAndPendingPromptsWhichCanBeDeletedOrInterrupted() {
        Http http = start(ComfyUiEmulator.Config.defaults());
        emulator.faults().neverComplete(1);
        String running = http.post("/prompt", prompt(GRAPH, "q")).json().get("prompt_id").asString();
        String pending = http.post("/prompt", prompt(GRAPH, "q")).json().get("prompt_id").asString();
        await().atMost(Duration.ofSeconds(5)).until(() -> http.get("/queue").json().get("queue_running").size() == 1);
        JsonNode q = http.get("/queue").json();
        assertThat(q.get("queue_running").get(0).get(1).asString()).isEqualTo(running);
        assertThat(q.get("queue_pending").get(0).get(1).asString()).isEqualTo(pending);
        assertThat(http.get("/prompt").json().get("exec_info").get("queue_remaining").asInt()).isEqualTo(2);
        assertThat(http.post("/queue", "{\"delete\":[\"" + pending + "\"]}").status()).isEqualTo(200);
        assertThat(http.get("/queue").json().get("queue_pending")).isEmpty();
        assertThat(http.post("/interrupt", "{\"prompt_id\":\"" + running + "\"}").status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> !http.get("/history/" + running).json().isEmpty());
        JsonNode h = http.get("/history/" + running).json().get(running);
        assertThat(h.get("status").get("status_str").asString()).isEqualTo("error");
        assertThat(h.get("status").get("messages").toString()).contains("execution_interrupted");
        assertThat(http.get("/history/" + pending).json().isEmpty()).isTrue();
    }

    @Test
    void filenamePrefixIsDataNotAFormatString() {
        Http http = start(ComfyUiEmulator.Config.defaults());
        String graph = GRAPH.replace("\"filename_prefix\":\"cat\"", "\"filename_prefix\":\"100%s_%d_%n%05d\"");
        JsonNode q = http.post("/prompt", "{\"prompt\":" + graph + "}").json();
        String id = q.path("prompt_id").asString();
        await().atMost(Duration.ofSeconds(10)).until(() -> http.get("/history/" + id).json().has(id));
        JsonNode entry = http.get("/history/" + id).json().get(id);
        assertThat(entry.path("status").path("status_str").asString()).isEqualTo("success");
        JsonNode images = entry.path("outputs").path("9").path("images");
        assertThat(images.get(0).path("filename").asString()).isEqualTo("100%s_%d_%n%05d_00001_.png");
        assertThat(images.get(1).path("filename").asString()).isEqualTo("100%s_%d_%n%05d_00002_.png");
    }

    @Test
    void theEmbeddedServersWorkFilesStayInTheGivenFolderAndAreGoneAfterClose() throws Exception {
        java.nio.file.Path data = java.nio.file.Files.createTempDirectory("kiln-data-test");
        try {
            ComfyUiEmulator e = ComfyUiEmulator.start(ComfyUiEmulator.Config.defaults().withWorkDir(data.resolve("sandbox")));
            java.nio.file.Path work = e.workDir();
            assertThat(work).startsWith(data.resolve("sandbox")).exists();
            e.close();
            assertThat(work).doesNotExist();
            // Without a folder the emulator picks one in the system temp directory, and removes that too.
            ComfyUiEmulator t = ComfyUiEmulator.start(ComfyUiEmulator.Config.defaults());
            java.nio.file.Path tmp = t.workDir();
            assertThat(tmp).exists();
            t.close();
            assertThat(tmp).doesNotExist();
        } finally {
            try (var files = java.nio.file.Files.walk(data)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    void anOlderServerChoosesItsOwnPromptIdsAndInterruptsWhateverRuns() {
        Http http = start(ComfyUiEmulator.Config.defaults().withLegacyServer(true).withLatency(Duration.ofSeconds(30)));
        JsonNode q = http.post("/prompt", "{\"prompt\":" + GRAPH + ",\"prompt_id\":\"chosen-by-client\"}").json();
        String id = q.path("prompt_id").asString();
        assertThat(id).isNotEqualTo("chosen-by-client").matches("[0-9a-f-]{36}");
        await().atMost(Duration.ofSeconds(5)).until(() -> http.get("/queue").json().path("queue_running").size() == 1);
        // A targeted interrupt naming another prompt still stops the running one.
        http.post("/interrupt", "{\"prompt_id\":\"some-other-prompt\"}");
        await().atMost(Duration.ofSeconds(5)).until(() -> http.get("/history/" + id).json().has(id));
        assertThat(http.get("/history/" + id).json().get(id).path("status").path("messages").toString()).contains("execution_interrupted");
    }

    /**
     * /object_info as server.py's node_info writes it, for what is installed: model folders list
     * their files sorted (get_filename_list), VAELoader adds pixel_space, a V3 node writes its
     * combo as ["COMBO", {"options"}], custom nodes appear only where installed.
     */
    @Test
    void objectInfoListsWhatTheFoldersHoldAndOnlyTheInstalledNodes() {
        Http http = start(ComfyUiEmulator.Config.defaults().withModels("checkpoints", "a/zeta.safetensors", "Alpha.ckpt")
                .withModels("upscale_models", "2x_Tiny.pth"));
        JsonNode info = http.get("/object_info").json();
        List<String> ckpts = new ArrayList<>();
        info.get("CheckpointLoaderSimple").get("input").get("required").get("ckpt_name").get(0).forEach(n -> ckpts.add(n.asString()));
        assertThat(ckpts).contains("Alpha.ckpt", "a/zeta.safetensors", "m.safetensors", "ponyDiffusionV6XL_v6StartWithThisOne.safetensors")
                .isSorted();
        assertThat(info.get("CheckpointLoaderNF4").get("input").get("required").get("ckpt_name").get(0)).hasSize(ckpts.size());
        JsonNode vae = info.get("VAELoader").get("input").get("required").get("vae_name").get(0);
        assertThat(vae.get(vae.size() - 1).asString()).isEqualTo("pixel_space");
        JsonNode upscale = info.get("UpscaleModelLoader").get("input").get("required").get("model_name");
        assertThat(upscale.get(0).asString()).isEqualTo("COMBO");
        assertThat(upscale.get(1).get("options").toString()).isEqualTo("[\"2x_Tiny.pth\",\"RealESRGAN_x4plus.pth\"]");
        assertThat(info.get("KSampler").get("input").get("required").get("sampler_name").get(0).toString()).contains("\"euler_ancestral\"");
        assertThat(info.get("VHS_VideoCombine").get("output_node").asBoolean()).isTrue();
        assertThat(info.get("CLIPLoader").get("input_order").get("optional").get(0).asString()).isEqualTo("device");
        assertThat(http.get("/api/object_info/LoraLoaderModelOnly").json().get("LoraLoaderModelOnly").get("input").get("required")
                .get("lora_name").get(0).toString()).contains("Qwen-Image-Lightning-4steps-V1.0.safetensors");

        emulator.close();
        Http bare = start(ComfyUiEmulator.Config.defaults().withInventory(dev.kiln.emulator.comfy.ComfyInventory.empty()));
        JsonNode core = bare.get("/object_info").json();
        assertThat(core.has("VHS_VideoCombine")).isFalse();
        assertThat(core.has("CheckpointLoaderNF4")).isFalse();
        assertThat(core.get("UNETLoader").get("input").get("required").get("unet_name").get(0)).isEmpty();
        emulator.inventory(emulator.inventory().withCustomNodes("VHS_VideoCombine").withModels("diffusion_models", "new.safetensors"));
        JsonNode later = bare.get("/object_info").json();
        assertThat(later.has("VHS_VideoCombine")).isTrue();
        assertThat(later.get("UNETLoader").get("input").get("required").get("unet_name").get(0).get(0).asString()).isEqualTo("new.safetensors");
    }

    /** execution.py's validate_prompt: a class that is not installed refuses the whole prompt first, in its own shape. */
    @Test
    void aNodeTypeThatIsNotInstalledIsRefusedAsMissingNodeType() {
        Http http = start(ComfyUiEmulator.Config.defaults().withInventory(dev.kiln.emulator.comfy.ComfyInventory.empty()));
        String withVhs = GRAPH.replace("\"9\":{\"class_type\":\"SaveImage\",\"inputs\":{\"filename_prefix\":\"cat\",\"images\":[\"8\",0]}}",
                "\"9\":{\"class_type\":\"VHS_VideoCombine\",\"_meta\":{\"title\":\"Video Combine\"},\"inputs\":{\"images\":[\"8\",0]}}");
        Http.Answer a = http.post("/prompt", prompt(withVhs, "c"));
        assertThat(a.status()).isEqualTo(400);
        JsonNode e = a.json().get("error");
        assertThat(e.get("type").asString()).isEqualTo("missing_node_type");
        assertThat(e.get("message").asString()).isEqualTo("Node 'Video Combine' not found. The custom node may not be installed.");
        assertThat(e.get("details").asString()).isEqualTo("Node ID '#9'");
        assertThat(e.get("extra_info").get("node_id").asString()).isEqualTo("9");
        assertThat(e.get("extra_info").get("class_type").asString()).isEqualTo("VHS_VideoCombine");
        assertThat(e.get("extra_info").get("node_title").asString()).isEqualTo("Video Combine");
        assertThat(a.json().get("node_errors")).isEmpty();

        Http.Answer untitled = http.post("/prompt", prompt("{\"1\":{\"class_type\":\"IPAdapterAdvanced\",\"inputs\":{}}}", "c"));
        assertThat(untitled.json().get("error").get("message").asString())
                .isEqualTo("Node 'IPAdapterAdvanced' not found. The custom node may not be installed.");
        Http.Answer noClass = http.post("/prompt", prompt("{\"7\":{\"inputs\":{}}}", "c"));
        assertThat(noClass.json().get("error").get("type").asString()).isEqualTo("missing_node_type");
        assertThat(noClass.json().get("error").get("message").asString())
                .isEqualTo("Node 'ID #7' has no class_type. The workflow may be corrupted or a custom node is missing.");
    }

    /**
     * validate_inputs: a model file not in its folder and an enum value not in its list are
     * value_not_in_list (lists over 20 entries shown by length), a missing input is
     * required_input_missing, a widget Python cannot convert is invalid_input_type, and a
     * LoadImage file that was never uploaded fails LoadImage's own VALIDATE_INPUTS.
     */
    @Test
    void inputsAreRefusedAsComfyUiRefusesThem() {
        Http http = start(ComfyUiEmulator.Config.defaults().withInventory(dev.kiln.emulator.comfy.ComfyInventory.empty()));
        Http.Answer a = http.post("/prompt", prompt(GRAPH.replace("m.safetensors", "missing.safetensors")
                .replace("\"sampler_name\":\"euler\"", "\"sampler_name\":\"Euler a\"")
                .replace("\"steps\":3", "\"steps\":\"abc\"").replace("\"cfg\":6,", ""), "c"));
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.json().get("error").get("type").asString()).isEqualTo("prompt_outputs_failed_validation");
        JsonNode ckpt = a.json().get("node_errors").get("4").get("errors").get(0);
        assertThat(ckpt.get("type").asString()).isEqualTo("value_not_in_list");
        assertThat(ckpt.get("message").asString()).isEqualTo("Value not in list");
        assertThat(ckpt.get("details").asString()).isEqualTo("ckpt_name: 'missing.safetensors' not in ['m.safetensors']");
        assertThat(ckpt.get("extra_info").get("input_name").asString()).isEqualTo("ckpt_name");
        assertThat(ckpt.get("extra_info").get("received_value").asString()).isEqualTo("missing.safetensors");
        List<String> sampler = new ArrayList<>();
        a.json().get("node_errors").get("3").get("errors").forEach(x -> sampler.add(x.get("type").asString() + " | " + x.get("details").asString()));
        assertThat(sampler).contains("value_not_in_list | sampler_name: 'Euler a' not in (list of length 42)",
                "required_input_missing | cfg",
                "invalid_input_type | steps, abc, invalid literal for int() with base 10: 'abc'");
        assertThat(a.json().get("node_errors").get("3").get("dependent_outputs").get(0).asString()).isEqualTo("9");

        String img = "{\"1\":{\"class_type\":\"LoadImage\",\"inputs\":{\"image\":\"never.png\"}},"
                + "\"2\":{\"class_type\":\"ImageScale\",\"inputs\":{\"image\":[\"1\",0],\"upscale_method\":\"lanczos\",\"width\":8,\"height\":8,\"crop\":\"middle\"}},"
                + "\"3\":{\"class_type\":\"SaveImage\",\"inputs\":{\"images\":[\"2\",0],\"filename_prefix\":\"x\"}}}";
        JsonNode errs = http.post("/prompt", prompt(img, "c")).json().get("node_errors");
        assertThat(errs.get("1").get("errors").get(0).get("type").asString()).isEqualTo("custom_validation_failed");
        assertThat(errs.get("1").get("errors").get(0).get("details").asString()).isEqualTo("image - Invalid image file: never.png");
        assertThat(errs.get("2").get("errors").get(0).get("details").asString()).isEqualTo("crop: 'middle' not in ['disabled', 'center']");
    }
}

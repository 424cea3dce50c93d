package dev.kiln.emulator.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.testing.Http;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The RunPod emulator's serverless API and worker-comfyui's handler, spoken to directly. */
class RunPodEmulatorTest {
    static final String KEY = "k";
    static final Map<String, String> AUTH = Map.of("Authorization", "Bearer " + KEY);
    RunPodEmulator emulator;

    @AfterEach
    void close() {
        if (emulator != null) emulator.close();
    }

    Http start(RunPodEmulator.Config c) {
        emulator = RunPodEmulator.start(c.withModels("checkpoints", "m.safetensors"));
        return new Http(emulator.baseUrl() + "/ep");
    }

    static String job(String input) {
        return "{\"input\":" + input + "}";
    }

    @Test
    void theKeyAndEndpointAreChecked() {
        Http http = start(RunPodEmulator.Config.defaults(KEY, "ep"));
        assertThat(http.post("/run", job("{}")).status()).isEqualTo(401);
        assertThat(http.post("/run", job("{}"), Map.of("Authorization", "Bearer wrong")).status()).isEqualTo(401);
        assertThat(http.post("/run", job("{}"), Map.of("Authorization", KEY)).status()).isEqualTo(401);
        Http other = new Http(emulator.baseUrl() + "/other");
        assertThat(other.post("/run", job("{}"), AUTH).status()).isEqualTo(404);
    }

    @Test
    void runsyncAnswersWithTheResultAndWorkerInputErrorsAreJobErrors() {
        Http http = start(RunPodEmulator.Config.defaults(KEY, "ep"));
        String graph = """
                {"workflow":{"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"m.safetensors"}},
                 "6":{"class_type":"CLIPTextEncode","inputs":{"text":"x","clip":["4",1]}},
                 "5":{"class_type":"EmptyLatentImage","inputs":{"width":32,"height":32,"batch_size":1}},
                 "3":{"class_type":"KSampler","inputs":{"seed":1,"steps":1,"cfg":1,"sampler_name":"euler","scheduler":"normal","denoise":1,
                      "model":["4",0],"positive":["6",0],"negative":["6",0],"latent_image":["5",0]}},
                 "8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},
                 "9":{"class_type":"PreviewImage","inputs":{"images":["8",0]}},
                 "10":{"class_type":"SaveImage","inputs":{"filename_prefix":"s","images":["8",0]}}}}""";
        JsonNode done = http.post("/runsync", job(graph), AUTH).json();
        assertThat(done.get("id").asString()).startsWith("sync-");
        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        // Preview (temp) images are skipped, as worker-comfyui skips them.
        assertThat(done.get("output").get("images")).hasSize(1);
        assertThat(done.get("output").get("images").get(0).get("type").asString()).isEqualTo("base64");
        assertThat(done.get("executionTime").asLong()).isGreaterThanOrEqualTo(0);

        assertThat(http.post("/runsync", job("{}"), AUTH).json().get("error").asString()).isEqualTo("Missing 'workflow' parameter");
        assertThat(http.post("/runsync", job("{\"workflow\":{},\"images\":[{\"name\":\"a\"}]}"), AUTH).json().get("error").asString())
                .isEqualTo("'images' must be a list of objects with 'name' and 'image' keys");
        JsonNode bad = http.post("/runsync", job("{\"workflow\":{},\"images\":[{\"name\":\"a.png\",\"image\":\"data:image/png;base64,@@@\"}]}"), AUTH).json();
        assertThat(bad.get("status").asString()).isEqualTo("FAILED");
        assertThat(bad.get("error").asString()).isEqualTo("Failed to upload one or more input images");
        assertThat(bad.get("output").get("details").get(0).asString()).startsWith("Error decoding base64 for a.png");
        assertThat(http.post("/runsync", job("\"{not json\""), AUTH).json().get("error").asString()).isEqualTo("Invalid JSON format in input");
        JsonNode empty = http.post("/runsync", job("{\"workflow\":{\"1\":{\"class_type\":\"CLIPTextEncode\",\"inputs\":{}}}}"), AUTH).json();
        assertThat(empty.get("error").asString()).startsWith("Prompt has no outputs. Raw response: ");
    }

    @Test
    void policiesAreCheckedAndQueuedJobsCanBePurgedOrRetried() {
        Http http = start(RunPodEmulator.Config.defaults(KEY, "ep").withWorkers(1));
        assertThat(http.post("/run", "{\"input\":{},\"policy\":{\"executionTimeout\":1000}}", AUTH).status()).isEqualTo(400);
        assertThat(http.post("/run", "{\"input\":{},\"policy\":{\"ttl\":5000}}", AUTH).status()).isEqualTo(400);
        assertThat(http.post("/run", "{\"nothing\":1}", AUTH).status()).isEqualTo(400);
        emulator.faults().neverComplete(1);
        String stuck = http.post("/run", job("{\"workflow\":{}}"), AUTH).json().get("id").asString();
        await().atMost(Duration.ofSeconds(5)).until(() -> "IN_PROGRESS".equals(emulator.status(stuck)));
        String queued = http.post("/run", job("{}"), AUTH).json().get("id").asString();
        assertThat(emulator.status(queued)).isEqualTo("IN_QUEUE");
        assertThat(http.post("/purge-queue", "", AUTH).json().get("removed").asInt()).isEqualTo(1);
        assertThat(emulator.status(queued)).isEqualTo("CANCELLED");
        assertThat(http.post("/cancel/" + stuck, "", AUTH).json().get("status").asString()).isEqualTo("CANCELLED");
        String failing = http.post("/run", job("{}"), AUTH).json().get("id").asString();
        await().atMost(Duration.ofSeconds(5)).until(() -> "FAILED".equals(emulator.status(failing)));
        assertThat(http.post("/retry/" + failing, "", AUTH).json().get("status").asString()).isEqualTo("IN_QUEUE");
        await().atMost(Duration.ofSeconds(5)).until(() -> "FAILED".equals(emulator.status(failing)));
        assertThat(http.post("/retry/" + stuck, "", AUTH).status()).isEqualTo(400);
        assertThat(http.post("/cancel/unknown", "", AUTH).status()).isEqualTo(404);
    }

    /**
     * The worker's ComfyUI refuses what its image lacks, and handler.py turns that into its text:
     * a checkpoint not in the list gets "Available checkpoint models: …", a node class not
     * installed its message and the raw answer.
     */
    @Test
    void whatTheWorkerImageLacksFailsTheJobWithWorkerComfyUisText() {
        Http http = start(RunPodEmulator.Config.defaults(KEY, "ep").withInventory(dev.kiln.emulator.comfy.ComfyInventory.empty()));
        String graph = """
                {"workflow":{"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"pony.safetensors"}},
                 "6":{"class_type":"CLIPTextEncode","inputs":{"text":"x","clip":["4",1]}},
                 "5":{"class_type":"EmptyLatentImage","inputs":{"width":32,"height":32,"batch_size":1}},
                 "3":{"class_type":"KSampler","inputs":{"seed":1,"steps":1,"cfg":1,"sampler_name":"euler","scheduler":"normal","denoise":1,
                      "model":["4",0],"positive":["6",0],"negative":["6",0],"latent_image":["5",0]}},
                 "8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},
                 "10":{"class_type":"SaveImage","inputs":{"filename_prefix":"s","images":["8",0]}}}}""";
        JsonNode missingModel = http.post("/runsync", job(graph), AUTH).json();
        assertThat(missingModel.get("status").asString()).isEqualTo("FAILED");
        assertThat(missingModel.get("error").asString()).startsWith("Workflow validation failed:\n• Node 4 (errors): ")
                .contains("ckpt_name: 'pony.safetensors' not in ['m.safetensors']")
                .endsWith("\n\nAvailable checkpoint models: m.safetensors");
        JsonNode missingNode = http.post("/runsync", job(graph.replace("\"SaveImage\"", "\"VHS_VideoCombine\"")), AUTH).json();
        assertThat(missingNode.get("error").asString())
                .startsWith("Node 'VHS_VideoCombine' not found. The custom node may not be installed.. Raw response: ")
                .contains("\"missing_node_type\"");
    }

    /** The sandbox's endpoint says what a RunPod account's settings would: a stock worker, its models and nodes. */
    @Test
    void theLauncherDescribesTheWorkerAsAccountSettings() {
        try (dev.kiln.emulator.Emulator e = new RunPodLauncher().start(dev.kiln.emulator.Launcher.Options.defaults()
                .withComfy(java.util.List.of("loras/extra.safetensors"), java.util.List.of("IPAdapterAdvanced")))) {
            assertThat(e.settings()).containsEntry("video_outputs", "false").containsEntry("endpoint_id", "sandbox");
            assertThat(e.settings().get("comfy_models").split(",")).contains("loras/extra.safetensors",
                    "checkpoints/ponyDiffusionV6XL_v6StartWithThisOne.safetensors", "diffusion_models/qwen_image_fp8_e4m3fn.safetensors");
            assertThat(e.settings().get("comfy_nodes").split(",")).contains("KSampler", "VHS_VideoCombine", "IPAdapterAdvanced");
        }
    }
}

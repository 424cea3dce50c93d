package dev.kiln.compat.vibewave;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.comfyui.ComfyUiEmulator;
import dev.kiln.emulator.runpod.RunPodEmulator;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * Vibewave's workflow and Qwen API (seed 004) over real HTTP: each usage example with only the
 * base URL changed, on the sandbox's RunPod worker-comfyui and ComfyUI emulators; the shapes
 * WorkflowResult, ComfyUIRequest and QueueStatus; cancelling; 408 for a synchronous call that
 * outlives its wait; {"detail"} errors; /redoc.
 */
class VibewaveApiTest extends KilnIntegrationTest {
    @Autowired
    Sandbox sandbox;

    @AfterEach
    void calm() {
        sandbox.emulator(ComfyUiEmulator.class).faults().reset();
        sandbox.emulator(RunPodEmulator.class).faults().reset();
    }

    /** Fetches a file URL as a stranger would: no credentials at all. */
    static BufferedImage fetch(String url) throws IOException, InterruptedException {
        assertThat(url).startsWith("http://");
        try (HttpClient c = HttpClient.newHttpClient()) {
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).as(url).isEqualTo(200);
            return ImageIO.read(new ByteArrayInputStream(r.body()));
        }
    }

    static void assertWorkflowResult(JsonNode r) {
        assertThat(r.propertyNames()).containsExactlyInAnyOrder("success", "files", "error", "request_id", "pod_id", "pod_ip");
    }

    @Test
    void example1GeneratesASingleImageSynchronously() throws Exception {
        Http.Answer a = http.post("/api/qwen/generate", """
                {
                    "prompt": "A majestic dragon soaring through clouds above a medieval castle, fantasy art style, highly detailed, epic lighting",
                    "width": 1024,
                    "height": 1024,
                    "steps": 4
                  }""");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        JsonNode r = a.json();
        assertWorkflowResult(r);
        assertThat(r.get("success").asBoolean()).as(r.toString()).isTrue();
        assertThat(r.get("error").isNull()).isTrue();
        assertThat(r.get("pod_id").isNull()).as("no pod ran it: a sandbox account").isTrue();
        assertThat(r.get("files")).hasSize(1);
        BufferedImage img = fetch(r.get("files").get(0).asString());
        assertThat(img.getWidth()).isEqualTo(1024);
        JsonNode job = http.get("/v1/jobs/" + r.get("request_id").asString()).json();
        assertThat(job.get("model").asString()).isEqualTo("qwen-image");
        assertThat(job.get("origin").asString()).isEqualTo("004");
        assertThat(job.get("params").get("steps").asInt()).isEqualTo(4);
    }

    @Test
    void theWorkflowInputExampleRunsOnTheRunPodWorkerAndOnComfyUi() throws Exception {
        for (String[] w : new String[][] {{"qwen_on_runpod", "runpod"}, {"qwen_on_comfyui", "comfyui"}}) {
            Http.Answer a = http.post("/api/runpod/generate-image", """
                    {"workflow_name": "%s",
                      "prompt": "A beautiful landscape with mountains and a lake",
                      "negative_prompt": "blurry, low quality, distorted",
                      "width": 1024,
                      "height": 1024,
                      "seed": 12345,
                      "steps": 4
                    }""".formatted(w[0]));
            assertThat(a.status()).as(a.toString()).isEqualTo(200);
            JsonNode r = a.json();
            assertWorkflowResult(r);
            assertThat(r.get("success").asBoolean()).as(w[0] + ": " + r).isTrue();
            assertThat(fetch(r.get("files").get(0).asString()).getWidth()).isEqualTo(1024);
            JsonNode job = http.get("/v1/jobs/" + r.get("request_id").asString()).json();
            assertThat(job.get("provider").asString()).isEqualTo(w[1]);
            assertThat(job.get("params").get("seed").asLong()).isEqualTo(12345);
            JsonNode req = http.get("/api/runpod/workflows/status/" + r.get("request_id").asString()).json();
            assertThat(req.get("workflow_name").asString()).isEqualTo(w[0]);
            assertThat(req.get("inputs").get("negative_prompt").asString()).isEqualTo("blurry, low quality, distorted");
        }
    }

    @Test
    void example2GeneratesAsynchronouslyAndTheStatusFollowsIt() throws Exception {
        JsonNode started = http.post("/api/qwen/generate-async", """
                {
                    "prompt": "A futuristic cyberpunk cityscape at night with neon lights",
                    "width": 1024,
                    "height": 1024
                  }""").json();
        String id = started.get("request_id").asString();
        assertThat(started.get("status").asString()).isIn("pending", "running");
        JsonNode[] last = {null};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            last[0] = http.get("/api/qwen/status/" + id).json();
            return List.of("completed", "failed").contains(last[0].get("status").asString());
        });
        JsonNode req = last[0];
        assertThat(req.propertyNames()).containsExactlyInAnyOrder("id", "workflow_name", "inputs", "status", "pod_id", "created_at",
                "updated_at", "result", "error");
        assertThat(req.get("status").asString()).as(req.toString()).isEqualTo("completed");
        assertThat(req.get("workflow_name").asString()).isEqualTo("comfyui_image_qwen");
        assertThat(req.get("inputs").get("prompt").asString()).isEqualTo("A futuristic cyberpunk cityscape at night with neon lights");
        assertThat(req.get("inputs").get("width").asInt()).isEqualTo(1024);
        assertThat(req.get("result").get("success").asBoolean()).isTrue();
        assertThat(fetch(req.get("result").get("files").get(0).asString()).getHeight()).isEqualTo(1024);
        // The same request through the workflow routes.
        assertThat(http.get("/api/runpod/workflows/status/" + id).json().get("status").asString()).isEqualTo("completed");
    }

    @Test
    void example3GeneratesMultipleImages() throws Exception {
        Http.Answer a = http.post("/api/qwen/batch-generate", """
                {
                    "prompts": [
                      "A serene mountain landscape with a crystal clear lake",
                      "A futuristic cityscape with flying cars and neon lights",
                      "An abstract digital art piece with vibrant colors"
                    ],
                    "width": 1024,
                    "height": 1024,
                    "steps": 4
                  }""");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        JsonNode r = a.json();
        assertThat(r.get("total").asInt()).isEqualTo(3);
        assertThat(r.get("successful").asInt()).as(r.toString()).isEqualTo(3);
        assertThat(r.get("success").asBoolean()).isTrue();
        List<String> prompts = new ArrayList<>();
        for (JsonNode one : r.get("results")) {
            assertWorkflowResult(one);
            assertThat(one.get("files")).hasSize(1);
            prompts.add(http.get("/api/qwen/status/" + one.get("request_id").asString()).json().get("inputs").get("prompt").asString());
        }
        assertThat(prompts).containsExactly("A serene mountain landscape with a crystal clear lake",
                "A futuristic cityscape with flying cars and neon lights", "An abstract digital art piece with vibrant colors");
    }

    @Test
    void examples4And5PresetsAndExamplePromptsComeFromTheCatalogue() {
        JsonNode p = http.get("/api/qwen/presets").json();
        assertThat(p.get("presets").propertyNames()).contains("fast", "quality", "ultra");
        assertThat(p.get("presets").get("fast").get("steps").asInt()).isEqualTo(4);
        assertThat(p.get("presets").get("quality").get("steps").asInt()).isEqualTo(8);
        assertThat(p.get("default_settings").get("width").asInt()).isEqualTo(1024);
        JsonNode e = http.get("/api/qwen/examples").json();
        assertThat(e.get("examples").toString()).contains("A majestic dragon soaring through clouds");
        assertThat(http.get("/api/qwen/health").json().get("status").asString()).isEqualTo("healthy");
    }

    @Test
    void examples6And7QueueStatusAndHistory() {
        JsonNode done = http.post("/api/runpod/generate-image", "{\"prompt\":\"history one\",\"width\":512,\"height\":512}").json();
        assertThat(done.get("success").asBoolean()).as(done.toString()).isTrue();
        String id = done.get("request_id").asString();

        JsonNode q = http.get("/api/runpod/workflows/queue/status").json();
        assertThat(q.propertyNames()).containsExactlyInAnyOrder("active_pods", "pending_requests", "completed_requests", "failed_requests");
        assertThat(q.get("active_pods").isArray()).isTrue();
        assertThat(q.get("completed_requests").toString()).contains(id);
        JsonNode first = q.get("completed_requests").get(0);
        assertThat(first.propertyNames()).containsExactlyInAnyOrder("id", "workflow_name", "status");
        assertThat(first.get("status").asString()).isEqualTo("completed");

        Http.Answer h = http.get("/api/runpod/workflows/history?limit=10&status=completed");
        assertThat(h.status()).as(h.toString()).isEqualTo(200);
        JsonNode list = h.json();
        assertThat(list.isArray()).isTrue();
        assertThat(list.size()).isBetween(1, 10);
        for (JsonNode r : list) assertThat(r.get("status").asString()).isEqualTo("completed");
        assertThat(list.get(0).get("id").asString()).isEqualTo(id);
    }

    @Test
    void aQueuedWorkflowCanBeCancelledAndASynchronousCallThatOutlivesItsWaitIs408() {
        sandbox.emulator(RunPodEmulator.class).faults().neverComplete(2);
        sandbox.emulator(ComfyUiEmulator.class).faults().neverComplete(2);
        JsonNode queued = http.post("/api/runpod/workflows/queue", """
                {"workflow_name":"comfyui_image_qwen","inputs":{"prompt":"A beautiful landscape","negative_prompt":"blurry, low quality",
                 "width":1024,"height":1024,"seed":12345,"steps":4}}""").json();
        assertThat(queued.get("status").asString()).as(queued.toString()).isIn("pending", "running");
        assertThat(queued.get("inputs").get("seed").asLong()).isEqualTo(12345);
        assertThat(queued.get("inputs").get("negative_prompt").asString()).isEqualTo("blurry, low quality");
        assertThat(queued.get("result").isNull()).isTrue();
        String id = queued.get("id").asString();
        JsonNode cancelled = http.delete("/api/runpod/workflows/" + id).json();
        assertThat(cancelled.get("success").asBoolean()).isTrue();
        assertThat(http.get("/api/runpod/workflows/status/" + id).json().get("status").asString()).isEqualTo("cancelled");
        assertThat(http.get("/api/runpod/workflows/history?status=cancelled").json().toString()).contains(id);

        Http.Answer late = http.post("/api/runpod/generate-image?timeout=1", "{\"prompt\":\"never ends\",\"width\":512,\"height\":512}");
        assertThat(late.status()).as(late.toString()).isEqualTo(408);
        assertThat(late.json().get("detail").asString()).contains("timed out");
        assertThat(late.json().size()).isEqualTo(1);
        // The request goes on, and can still be cancelled.
        JsonNode pending = http.get("/api/runpod/workflows/queue/status").json().get("pending_requests");
        assertThat(pending.size()).isGreaterThanOrEqualTo(1);
        String stuck = pending.get(0).get("id").asString();
        assertThat(http.delete("/api/runpod/workflows/" + stuck).json().get("status").asString()).isEqualTo("cancelled");
    }

    @Test
    void generateImageAsyncAndMultipleImagesOnTheWorkflowRoutes() {
        JsonNode a = http.post("/api/runpod/generate-image-async", "{\"workflow_name\":\"comfyui_image_qwen\",\"prompt\":\"async one\",\"width\":512,\"height\":512}").json();
        String id = a.get("request_id").asString();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> http.get("/api/runpod/workflows/status/" + id).json().get("status").asString().equals("completed"));
        JsonNode many = http.post("/api/runpod/generate-multiple-images", """
                {"inputs":[{"prompt":"one","width":512,"height":512,"seed":1},{"prompt":"two","width":512,"height":512,"seed":2}]}""").json();
        assertThat(many.get("successful").asInt()).as(many.toString()).isEqualTo(2);
    }

    @Test
    void badInputUnknownRequestsAndUnknownWorkflowsAreDetailErrors() {
        assertDetail(http.post("/api/qwen/generate", "{\"prompt\":\"x\",\"width\":99999}"), 400, "width");
        assertDetail(http.post("/api/qwen/generate", "{\"width\":512}"), 400, "prompt is required");
        assertDetail(http.post("/api/qwen/generate", "{\"prompt\":\"x\",\"steps\":\"four\"}"), 400, "steps must be an integer");
        assertDetail(http.post("/api/qwen/generate", "{\"prompt\":\"x\",\"colour\":1}"), 400, "unknown field 'colour'");
        assertDetail(http.post("/api/qwen/generate", "{\"prompt\":\"x\",\"preset\":\"turbo\"}"), 400, "unknown preset");
        assertDetail(http.post("/api/qwen/generate", "not json"), 400, "Invalid workflow input parameters");
        assertDetail(http.post("/api/qwen/batch-generate", "{\"prompts\":[]}"), 400, "prompts");
        assertDetail(http.post("/api/runpod/workflows/queue", "{\"workflow_name\":\"nope\",\"inputs\":{\"prompt\":\"x\"}}"), 400, "Unknown workflow 'nope'");
        assertDetail(http.get("/api/runpod/workflows/history?status=done"), 400, "status must be one of");
        assertDetail(http.get("/api/runpod/workflows/history?limit=0"), 400, "limit");
        assertDetail(http.get("/api/runpod/workflows/status/req-12345"), 404, "Request not found");
        assertDetail(http.get("/api/qwen/status/req-12345"), 404, "Request not found");
        assertDetail(http.delete("/api/runpod/workflows/req-12345"), 404, "Request not found");
        // A /v1 job is not a Vibewave request.
        String v1 = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"not vibewave\"}");
        assertDetail(http.get("/api/qwen/status/" + v1), 404, "Request not found");
    }

    @Test
    void redocShowsTheOpenApiDocumentWithTheSeedRoutes() {
        Http.Answer page = http.get("/redoc");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.header("Content-Type")).startsWith("text/html");
        assertThat(page.text()).contains("<redoc spec-url=\"/openapi.json\">");
        // The bundle is served by Kiln itself: the page needs no network.
        Http.Answer bundle = http.get("/ui/vendor/redoc.standalone.js");
        assertThat(bundle.status()).isEqualTo(200);
        assertThat(bundle.text()).contains("Redoc");
        JsonNode doc = http.get("/openapi.json").json();
        assertThat(doc.get("paths").has("/api/qwen/generate")).isTrue();
        assertThat(doc.get("paths").has("/api/runpod/workflows/queue/status")).isTrue();
        assertThat(doc.get("paths").has("/v2/{endpoint}/runsync")).isTrue();
        // Each façade's errors in its own shape.
        JsonNode generate = doc.get("paths").get("/api/qwen/generate").get("post").get("responses");
        assertThat(generate.get("400").toString()).contains("#/components/schemas/VibewaveError");
        assertThat(generate.get("408").toString()).contains("#/components/schemas/VibewaveError");
        assertThat(doc.get("paths").get("/api/runpod/workflows/status/{request_id}").get("get").get("responses").get("404").toString())
                .contains("VibewaveError");
        assertThat(doc.get("components").get("schemas").get("VibewaveError").get("properties").has("detail")).isTrue();
        assertThat(doc.get("paths").get("/v2/{endpoint}/run").get("post").get("responses").get("400").toString()).contains("RunPodError");
        assertThat(doc.get("paths").get("/v1/jobs").get("post").get("responses").get("400").toString()).doesNotContain("RunPodError", "VibewaveError");
    }

    static void assertDetail(Http.Answer a, int status, String text) {
        assertThat(a.status()).as(a.toString()).isEqualTo(status);
        assertThat(a.json().get("detail").asString()).as(a.toString()).contains(text);
        assertThat(a.json().size()).isEqualTo(1);
    }
}

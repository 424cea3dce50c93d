package dev.kiln.compat.runpodworker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.comfyui.ComfyUiEmulator;
import dev.kiln.emulator.runpod.RunPodEmulator;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * The RunPod worker format (seed 001) over real HTTP: the seed's request examples with only the
 * base URL changed, on the sandbox's ComfyUI and RunPod worker-comfyui emulators (endpoints
 * {@code default}, {@code comfy} and {@code rp}); RunPod's envelope, its waits, cancel, health and
 * purge; the handler's bare output at the root; and RunPod's errors for bad bodies and unknown ids.
 */
class RunPodWorkerApiTest extends KilnIntegrationTest {
    static final Map<String, String> SEED_HEADERS = Map.of("Authorization", "Bearer YOUR_API_KEY");

    @Autowired
    Sandbox sandbox;

    @AfterEach
    void calm() {
        sandbox.emulator(ComfyUiEmulator.class).faults().reset();
        sandbox.emulator(RunPodEmulator.class).faults().reset();
    }

    static String jpegDataUri(int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        var g = img.createGraphics();
        g.setColor(Color.ORANGE);
        g.fillRect(0, 0, w, h);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return "data:image/jpeg;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
    }

    /** The seed's Python and JavaScript example: a LoadImage node and the image under its name. */
    static String seedPayload(String image) {
        return """
                {"input":{"workflow":{"40":{"inputs":{"image":"image.jpg"},"class_type":"LoadImage"}},
                 "images":[{"name":"image.jpg","image":"%s"}]}}""".formatted(image);
    }

    /** The seed's example completed into a graph that saves something: LoadImage → SaveImage. */
    static String savingPayload(String image) {
        return """
                {"input":{"workflow":{"40":{"inputs":{"image":"image.jpg"},"class_type":"LoadImage"},
                  "9":{"inputs":{"filename_prefix":"ComfyUI","images":["40",0]},"class_type":"SaveImage"}},
                 "images":[{"name":"image.jpg","image":"%s"}]}}""".formatted(image);
    }

    @Test
    void theSeedsRunsyncExampleOnEveryEndpointCompletesWithTheHandlersOutput() throws IOException {
        String image = jpegDataUri(48, 32);
        for (String endpoint : new String[] {"default", "comfy", "rp"}) {
            Http.Answer a = http.post("/v2/" + endpoint + "/runsync", savingPayload(image), SEED_HEADERS);
            assertThat(a.status()).as(endpoint + ": " + a).isEqualTo(200);
            JsonNode r = a.json();
            assertThat(r.get("status").asString()).as(endpoint + ": " + a).isEqualTo("COMPLETED");
            assertThat(r.get("id").asString()).startsWith("job_");
            assertThat(r.get("delayTime").asLong()).isNotNegative();
            assertThat(r.get("executionTime").asLong()).isNotNegative();
            JsonNode out = r.get("output");
            assertThat(out.get("status").asString()).isEqualTo("completed");
            assertThat(out.get("results")).hasSize(1);
            // The file name ComfyUI gave the output, and the image the workflow loaded (the uploaded one).
            assertThat(out.get("results").get(0).get("filename").asString()).matches("ComfyUI_\\d{5}_\\.png");
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(out.get("results").get(0).get("image").asString())));
            assertThat(img.getWidth()).isEqualTo(48);
            assertThat(img.getHeight()).isEqualTo(32);
            JsonNode job = http.get("/v1/jobs/" + r.get("id").asString()).json();
            assertThat(job.get("origin").asString()).isEqualTo("001");
            assertThat(job.get("provider").asString()).isEqualTo(switch (endpoint) {
                case "rp" -> "runpod";
                case "comfy" -> "comfyui";
                default -> job.get("provider").asString();
            });
        }
    }

    @Test
    void theSeedsExampleAsWrittenEndsInTheHandlersErrorBecauseItsWorkflowSavesNothing() throws IOException {
        // The seed's own workflow is one LoadImage node: ComfyUI refuses a prompt without outputs.
        JsonNode r = http.post("/v2/default/runsync", seedPayload(jpegDataUri(16, 16)), SEED_HEADERS).json();
        assertThat(r.get("status").asString()).as(r.toString()).isEqualTo("FAILED");
        assertThat(r.get("error").asString()).containsIgnoringCase("no outputs");
        assertThat(r.get("output").get("status").asString()).isEqualTo("error");
        assertThat(r.get("output").get("message").asString()).isEqualTo(r.get("error").asString());

        JsonNode bare = http.post("/runsync", seedPayload(jpegDataUri(16, 16)), SEED_HEADERS).json();
        assertThat(bare.get("status").asString()).isEqualTo("error");
        assertThat(bare.get("message").asString()).containsIgnoringCase("no outputs");
    }

    @Test
    void imagesWithoutTheDataPrefixAreTakenToo() throws IOException {
        String raw = jpegDataUri(20, 10).substring("data:image/jpeg;base64,".length());
        JsonNode r = http.post("/runsync", savingPayload(raw), SEED_HEADERS).json();
        assertThat(r.get("status").asString()).as(r.toString()).isEqualTo("completed");
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(r.get("results").get(0).get("image").asString())));
        assertThat(img.getWidth()).isEqualTo(20);
    }

    @Test
    void theRootServesTheBareHandlerOutputForRunsyncAndForRunThenStatus() throws IOException {
        JsonNode sync = http.post("/runsync", savingPayload(jpegDataUri(24, 24)), SEED_HEADERS).json();
        assertThat(sync.get("status").asString()).as(sync.toString()).isEqualTo("completed");
        assertThat(sync.get("results").get(0).get("filename").asString()).endsWith(".png");
        assertThat(sync.has("output")).isFalse();

        JsonNode queued = http.post("/run", savingPayload(jpegDataUri(24, 24)), SEED_HEADERS).json();
        assertThat(queued.get("status").asString()).isIn("in_queue", "in_progress");
        String id = queued.get("id").asString();
        JsonNode[] last = {null};
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = http.get("/status/" + id).json();
            return !last[0].get("status").asString().startsWith("in_");
        });
        assertThat(last[0].get("status").asString()).as(last[0].toString()).isEqualTo("completed");
        assertThat(last[0].get("results").get(0).get("image").asString()).isNotBlank();
        // The same job in RunPod's envelope under its endpoint.
        assertThat(http.get("/v2/default/status/" + id).json().get("status").asString()).isEqualTo("COMPLETED");
    }

    @Test
    void aRunPodClientSubmitsPollsWaitsAndCancels() throws IOException {
        // run → poll status → COMPLETED
        JsonNode run = http.post("/v2/rp/run", savingPayload(jpegDataUri(16, 16)), SEED_HEADERS).json();
        assertThat(run.get("status").asString()).isEqualTo("IN_QUEUE");
        assertThat(run.size()).isEqualTo(2);
        String id = run.get("id").asString();
        JsonNode[] last = {null};
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = http.get("/v2/rp/status/" + id, SEED_HEADERS).json();
            return last[0].get("status").asString().equals("COMPLETED");
        });
        assertThat(last[0].get("output").get("results")).hasSize(1);
        // Another endpoint does not know it, as at RunPod.
        assertThat(http.get("/v2/comfy/status/" + id).status()).isEqualTo(404);

        // A request that does not end: runsync answers its current state after ?wait=, then it is cancelled.
        sandbox.emulator(RunPodEmulator.class).faults().neverComplete(1);
        long t0 = System.nanoTime();
        JsonNode waited = http.post("/v2/rp/runsync?wait=1500", savingPayload(jpegDataUri(16, 16))).json();
        long took = Duration.ofNanos(System.nanoTime() - t0).toMillis();
        assertThat(waited.get("status").asString()).as(waited.toString()).isIn("IN_QUEUE", "IN_PROGRESS");
        assertThat(took).isBetween(1400L, 10_000L);
        String stuck = waited.get("id").asString();
        JsonNode cancelled = http.post("/v2/rp/cancel/" + stuck, "").json();
        assertThat(cancelled.get("id").asString()).isEqualTo(stuck);
        assertThat(cancelled.get("status").asString()).isEqualTo("CANCELLED");
        assertThat(http.get("/v2/rp/status/" + stuck).json().get("status").asString()).isEqualTo("CANCELLED");
        JsonNode bare = http.get("/status/" + stuck).json();
        assertThat(bare.get("status").asString()).isEqualTo("error");

        JsonNode health = http.get("/v2/rp/health").json();
        assertThat(health.get("jobs").get("completed").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(health.get("jobs").has("inQueue")).isTrue();
        assertThat(health.get("jobs").has("inProgress")).isTrue();
        assertThat(health.get("workers").get("idle").asInt() + health.get("workers").get("running").asInt()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aRequestPastItsDeadlineIsTimedOutWithTheHandlersTimeoutOutput() throws IOException {
        sandbox.emulator(RunPodEmulator.class).faults().neverComplete(1);
        JsonNode r = http.post("/v2/short/runsync?wait=20000", savingPayload(jpegDataUri(16, 16))).json();
        assertThat(r.get("status").asString()).as(r.toString()).isEqualTo("TIMED_OUT");
        assertThat(r.get("error").asString()).isEqualTo("Execution exceeded maximum wait time");
        assertThat(r.get("output").get("status").asString()).isEqualTo("timeout");
        assertThat(r.get("output").get("message").asString()).isEqualTo("Execution exceeded maximum wait time");
        JsonNode bare = http.get("/status/" + r.get("id").asString()).json();
        assertThat(bare.get("status").asString()).isEqualTo("timeout");
        assertThat(bare.get("message").asString()).isEqualTo("Execution exceeded maximum wait time");
    }

    @Test
    void purgeQueueCancelsQueuedRequestsOnly() throws IOException {
        JsonNode p = http.post("/v2/comfy/purge-queue", "").json();
        assertThat(p.get("status").asString()).isEqualTo("completed");
        assertThat(p.get("removed").asInt()).isNotNegative();
        assertThat(p.size()).isEqualTo(2);
    }

    @Test
    void badBodiesAndUnknownIdsGetRunPodsErrors() throws IOException {
        String image = jpegDataUri(8, 8);
        assertError(http.post("/v2/default/run", "{not json"), 400, "not valid JSON");
        assertError(http.post("/v2/default/run", "[]"), 400, "'input'");
        assertError(http.post("/v2/default/run", "{\"inputs\":{}}"), 400, "'input' is required");
        assertError(http.post("/v2/default/run", "{\"input\":null}"), 400, "Please provide input");
        assertError(http.post("/v2/default/run", "{\"input\":\"{oops\"}"), 400, "Invalid JSON format in input");
        assertError(http.post("/v2/default/run", "{\"input\":{\"images\":[]}}"), 400, "Missing 'workflow' parameter");
        assertError(http.post("/v2/default/run", "{\"input\":{\"workflow\":[1]}}"), 400, "'workflow' must be a JSON object");
        assertError(http.post("/v2/default/run", "{\"input\":{\"workflow\":{\"1\":{}},\"images\":{\"a\":1}}}"), 400,
                "'images' must be a list of objects with 'name' and 'image' keys");
        assertError(http.post("/v2/default/run", "{\"input\":{\"workflow\":{\"1\":{}},\"images\":[{\"name\":\"a.png\"}]}}"), 400,
                "'images' must be a list of objects with 'name' and 'image' keys");
        assertError(http.post("/v2/default/run", "{\"input\":{\"workflow\":{\"1\":{}},\"images\":[{\"name\":\"a.png\",\"image\":\"%%%\"}]}}"),
                400, "Failed to upload one or more input images");
        assertError(http.post("/v2/default/run", "{\"input\":{\"workflow\":{\"1\":{}},\"images\":[{\"name\":\"../a.png\",\"image\":\"" + image + "\"}]}}"),
                400, "not a plain file name");
        // A graph no backend of the pool can run: worker-comfyui's "Workflow validation failed".
        assertError(http.post("/v2/rp/run", """
                {"input":{"workflow":{"2":{"inputs":{"unet_name":"wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors","weight_dtype":"fp8_e4m3fn_fast"},
                 "class_type":"UNETLoader"},"9":{"inputs":{"nope":1},"class_type":"NoSuchNode"}}}}"""), 400, "Workflow validation failed");
        assertError(http.post("/v2/default/run?x=1", "{\"input\":{\"workflow\":{\"1\":{}}},\"policy\":{\"ttl\":5}}"), 400, "policy.ttl");
        assertError(http.post("/v2/default/runsync?wait=soon", savingPayload(image)), 400, "wait must be");
        assertError(http.post("/v2/nope/run", savingPayload(image)), 404, "endpoint nope not found");
        assertError(http.get("/v2/default/status/job_nope"), 404, "does not exist");
        assertError(http.post("/v2/default/cancel/job_nope", ""), 404, "does not exist");
        // A /v1 job is not a RunPod request.
        String v1 = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"not runpod\"}");
        assertError(http.get("/v2/default/status/" + v1), 404, "does not exist");
        // At the root, the handler's error shape.
        Http.Answer root = http.post("/runsync", "{\"input\":{}}");
        assertThat(root.status()).isEqualTo(400);
        assertThat(root.json().get("status").asString()).isEqualTo("error");
        assertThat(root.json().get("message").asString()).isEqualTo("Missing 'workflow' parameter");
    }

    static void assertError(Http.Answer a, int status, String text) {
        assertThat(a.status()).as(a.toString()).isEqualTo(status);
        assertThat(a.json().get("error").asString()).as(a.toString()).contains(text);
        assertThat(a.json().size()).as(a.toString()).isEqualTo(1);
    }
}

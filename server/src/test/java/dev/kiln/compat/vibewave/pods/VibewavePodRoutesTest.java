package dev.kiln.compat.vibewave.pods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.runpodpods.RunPodPodsEmulator;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * Vibewave's RunPod routes (seed 004) over real HTTP, proxied to the sandbox's RunPod pods
 * emulator: the seed's own examples run unchanged (only the base URL differs), and every pod route
 * answers RunPod's objects or {@code {"detail"}} with 400/404/500.
 */
class VibewavePodRoutesTest extends KilnIntegrationTest {
    @Autowired
    Sandbox sandbox;

    /** Seed 004, "Queue Statistics": {@code curl -X GET "http://localhost:8000/api/runpod/stats"}. */
    @Test
    void theSeedsStatsExampleAnswersItsShape() {
        Http.Answer a = http.get("/api/runpod/stats");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        JsonNode s = a.json();
        assertThat(s.propertyNames()).containsExactly("active_pods", "pending_requests", "completed_requests", "failed_requests",
                "total_requests");
        assertThat(s.get("total_requests").asLong()).isEqualTo(s.get("pending_requests").asLong() + s.get("completed_requests").asLong()
                + s.get("failed_requests").asLong());
    }

    /** Seed 004, "Health Checks": {@code curl -X GET "http://localhost:8000/api/runpod/health"}. */
    @Test
    void theSeedsRunPodHealthExampleIsHealthy() {
        Http.Answer a = http.get("/api/runpod/health");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        assertThat(a.json().get("status").asString()).isEqualTo("healthy");
        assertThat(a.json().get("api_key_configured").asBoolean()).isTrue();
    }

    @Test
    void aPodIsCreatedListedStoppedStartedRestartedAndTerminated() {
        Http.Answer c = http.post("/api/runpod/pods", "{\"workflow_name\":\"comfyui_image_qwen\"}");
        assertThat(c.status()).as(c.toString()).isEqualTo(200);
        JsonNode pod = c.json();
        String id = pod.get("id").asString();
        assertThat(pod.get("name").asString()).isEqualTo("comfyui_image_qwen-pod");
        assertThat(pod.get("gpu").get("id").asString()).isEqualTo("NVIDIA GeForce RTX 4090");
        assertThat(pod.get("image").asString()).isEqualTo("runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04");
        assertThat(pod.get("containerDiskInGb").asInt()).isEqualTo(50);
        assertThat(pod.get("ports").toString()).contains("22/tcp", "8080/http", "8188/http", "8888/http", "11434/http");
        assertThat(pod.get("memoryInGb").asInt()).isGreaterThanOrEqualTo(24);

        Http.Answer noIp = http.get("/api/runpod/pods/" + id + "/ip");
        if (noIp.status() == 404) assertThat(noIp.json().get("detail").asString()).contains("no IP address yet");
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/api/runpod/pods/" + id + "/ip").status() == 200);
        JsonNode ip = http.get("/api/runpod/pods/" + id + "/ip").json();
        assertThat(ip.get("ip").asString()).isEqualTo("127.0.0.1");
        assertThat(ip.get("ports").get("8188").asInt()).isPositive();

        assertThat(http.get("/api/runpod/pods").json().toString()).contains(id);
        assertThat(http.get("/api/runpod/pods/" + id).json().get("desiredStatus").asString()).isEqualTo("RUNNING");
        assertThat(http.post("/api/runpod/pods/" + id + "/stop", "").json().get("desiredStatus").asString()).isEqualTo("EXITED");
        assertThat(http.post("/api/runpod/pods/" + id + "/start", "").json().get("desiredStatus").asString()).isEqualTo("RUNNING");
        assertThat(http.post("/api/runpod/pods/" + id + "/restart", "").json().get("desiredStatus").asString()).isEqualTo("RUNNING");
        assertThat(http.get("/api/runpod/stats").json().get("active_pods").asInt()).isGreaterThanOrEqualTo(1);
        Http.Answer t = http.post("/api/runpod/pods/" + id + "/terminate", "");
        assertThat(t.status()).as(t.toString()).isEqualTo(200);
        assertThat(t.json().get("success").asBoolean()).isTrue();
        assertThat(sandbox.emulator(RunPodPodsEmulator.class).pods()).doesNotContainKey(id);
        Http.Answer gone = http.get("/api/runpod/pods/" + id);
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.json().toString()).isEqualTo("{\"detail\":\"Pod not found\"}");
        for (String action : new String[] {"start", "stop", "restart", "terminate"}) {
            Http.Answer x = http.post("/api/runpod/pods/" + id + "/" + action, "");
            assertThat(x.status()).as(action).isEqualTo(404);
            assertThat(x.json().get("detail").asString()).isEqualTo("Pod not found");
        }
    }

    @Test
    void badPodParametersAre400WithADetail() {
        Http.Answer a = http.post("/api/runpod/pods", "{\"gpu_count\":99}");
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.json().get("detail").asString()).startsWith("Invalid pod parameters: gpu_count");
        Http.Answer b = http.post("/api/runpod/pods", "{\"colour\":\"red\"}");
        assertThat(b.status()).isEqualTo(400);
        assertThat(b.json().get("detail").asString()).contains("unknown field(s) [colour]");
        Http.Answer c = http.post("/api/runpod/pods", "{not json");
        assertThat(c.status()).isEqualTo(400);
        assertThat(c.json().has("detail")).isTrue();
        Http.Answer d = http.post("/api/runpod/pods", "{\"gpu_type_id\":\"NVIDIA Nonexistent\"}");
        assertThat(d.status()).as(d.toString()).isEqualTo(400);
        assertThat(d.json().get("detail").asString()).startsWith("RunPod API error: unknown gpuTypeId");
    }

    @Test
    void noGpuLeftIsA500WithRunPodsMessage() {
        RunPodPodsEmulator e = sandbox.emulator(RunPodPodsEmulator.class);
        e.available("NVIDIA L40S", 0);
        try {
            Http.Answer a = http.post("/api/runpod/pods", "{\"gpu_type_id\":\"NVIDIA L40S\"}");
            assertThat(a.status()).isEqualTo(500);
            assertThat(a.json().get("detail").asString()).startsWith("RunPod API error: There are no longer any instances available");
        } finally {
            e.available("NVIDIA L40S", 10);
        }
    }

    @Test
    void accountGpuAndCloudTypesVolumesAndTemplates() {
        assertThat(http.get("/api/runpod/account").json().get("clientBalance").isNumber()).isTrue();
        JsonNode gpus = http.get("/api/runpod/gpu-types").json();
        assertThat(gpus.get(0).get("id").asString()).isEqualTo("NVIDIA GeForce RTX 4090");
        assertThat(gpus.get(0).get("securePrice").asDouble()).isPositive();
        assertThat(http.get("/api/runpod/cloud-types").json().toString()).contains("SECURE", "COMMUNITY");
        JsonNode vols = http.get("/api/runpod/network-volumes").json();
        String vid = vols.get(0).get("id").asString();
        assertThat(http.get("/api/runpod/network-volumes/" + vid).json().get("size").asInt()).isPositive();
        Http.Answer missing = http.get("/api/runpod/network-volumes/nope");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().get("detail").asString()).isEqualTo("Network volume not found");
        assertThat(http.get("/api/runpod/templates").json().get(0).has("imageName")).isTrue();
    }
}

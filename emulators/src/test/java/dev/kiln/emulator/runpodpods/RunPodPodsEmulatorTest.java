package dev.kiln.emulator.runpodpods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.testing.Http;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The RunPod pods emulator answers as rest.runpod.io/v1 and api.runpod.io/graphql document, and its pods are ComfyUI servers. */
class RunPodPodsEmulatorTest {
    static final String KEY = "pods-key";
    RunPodPodsEmulator e;
    Http rest;
    Http root;

    @BeforeEach
    void start() {
        e = RunPodPodsEmulator.start(RunPodPodsEmulator.Config.defaults(KEY).withStartupDelay(Duration.ofMillis(500)));
        rest = new Http(e.restUrl());
        root = new Http(e.restUrl().replace("/v1", ""));
    }

    @AfterEach
    void stop() {
        e.close();
    }

    Map<String, String> auth() {
        return Map.of("Authorization", "Bearer " + KEY);
    }

    @Test
    void aPodIsCreatedStartsStopsRestartsAndIsTerminatedWithRunPodsShapes() {
        Http.Answer c = rest.post("/pods", """
                {"name":"comfy","imageName":"runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04","gpuTypeIds":["NVIDIA GeForce RTX 4090"],
                 "containerDiskInGb":50,"minRAMPerGPU":24,"ports":["8188/http","8888/http"]}""", auth());
        assertThat(c.status()).as(c.toString()).isEqualTo(201);
        JsonNode pod = c.json();
        String id = pod.get("id").asString();
        assertThat(id).matches("[a-z0-9]{14}");
        assertThat(pod.get("desiredStatus").asString()).isEqualTo("RUNNING");
        assertThat(pod.get("costPerHr").asDouble()).isEqualTo(0.69);
        assertThat(pod.get("gpu").get("id").asString()).isEqualTo("NVIDIA GeForce RTX 4090");
        assertThat(pod.get("containerDiskInGb").asInt()).isEqualTo(50);
        assertThat(pod.get("publicIp").isNull()).as("not reachable before its start-up delay").isTrue();

        await().atMost(Duration.ofSeconds(10)).until(() -> !get(id).get("publicIp").isNull());
        JsonNode up = get(id);
        int port = up.get("portMappings").get("8188").asInt();
        Http comfy = new Http("http://" + up.get("publicIp").asString() + ":" + port);
        assertThat(comfy.get("/system_stats").status()).isEqualTo(200);
        assertThat(rest.get("/pods", auth()).json().size()).isEqualTo(1);

        assertThat(rest.post("/pods/" + id + "/stop", "", auth()).json().get("desiredStatus").asString()).isEqualTo("EXITED");
        assertThat(get(id).get("publicIp").isNull()).isTrue();
        double spent = e.spent();
        assertThat(spent).isPositive();
        assertThat(rest.post("/pods/" + id + "/start", "", auth()).json().get("desiredStatus").asString()).isEqualTo("RUNNING");
        assertThat(rest.post("/pods/" + id + "/restart", "", auth()).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> !get(id).get("publicIp").isNull());

        assertThat(rest.delete("/pods/" + id, auth()).status()).isEqualTo(204);
        Http.Answer gone = rest.get("/pods/" + id, auth());
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.json().get("error").asString()).isEqualTo("pod not found");
        assertThat(rest.post("/pods/" + id + "/start", "", auth()).status()).as("actions on an unknown id: 400 Invalid Pod ID").isEqualTo(400);
        assertThat(e.spent()).isGreaterThan(spent);
    }

    @Test
    void aKilledPodStopsAnsweringAndShowsExited() {
        String id = rest.post("/pods", "{\"imageName\":\"x\",\"gpuTypeIds\":[\"NVIDIA GeForce RTX 4090\"]}", auth()).json().get("id").asString();
        await().atMost(Duration.ofSeconds(10)).until(() -> !get(id).get("publicIp").isNull());
        String url = e.comfy(id).baseUrl();
        assertThat(e.kill(id)).isTrue();
        assertThat(get(id).get("desiredStatus").asString()).isEqualTo("EXITED");
        assertThat(get(id).get("lastStatusChange").asString()).contains("exit code 137");
        assertThat(new Http(url).reachable()).isFalse();
    }

    @Test
    void theNextGpuTypeIsTakenWhenTheFirstHasNoneLeftAndNoneLeftAtAllIsAnError() {
        e.available("NVIDIA GeForce RTX 4090", 0);
        JsonNode pod = rest.post("/pods", "{\"imageName\":\"x\",\"gpuTypeIds\":[\"NVIDIA GeForce RTX 4090\",\"NVIDIA GeForce RTX 3090\"]}", auth()).json();
        assertThat(pod.get("gpu").get("id").asString()).isEqualTo("NVIDIA GeForce RTX 3090");
        assertThat(pod.get("costPerHr").asDouble()).isEqualTo(0.43);
        e.available("NVIDIA GeForce RTX 3090", 0);
        Http.Answer none = rest.post("/pods", "{\"imageName\":\"x\",\"gpuTypeIds\":[\"NVIDIA GeForce RTX 4090\",\"NVIDIA GeForce RTX 3090\"]}", auth());
        assertThat(none.status()).isEqualTo(500);
        assertThat(none.json().get("error").asString()).startsWith("There are no longer any instances available");
        assertThat(rest.post("/pods", "{\"gpuTypeIds\":[\"NVIDIA GeForce RTX 4090\"]}", auth()).status()).as("no image, no template").isEqualTo(400);
        assertThat(rest.post("/pods", "{\"imageName\":\"x\",\"gpuTypeIds\":[\"NVIDIA Nonexistent\"]}", auth()).status()).isEqualTo(400);
    }

    @Test
    void everyCallNeedsTheKey() {
        Http.Answer a = rest.get("/pods");
        assertThat(a.status()).isEqualTo(401);
        assertThat(a.json().get("message").asString()).isEqualTo("Unauthorized");
        assertThat(rest.get("/pods", Map.of("Authorization", "Bearer wrong")).status()).isEqualTo(401);
        assertThat(root.post("/graphql", "{\"query\":\"query { myself { id } }\"}").status()).isEqualTo(401);
    }

    @Test
    void templatesNetworkVolumesAndTheGraphqlQueries() {
        assertThat(rest.get("/templates", auth()).json().get(0).get("imageName").asString()).isNotBlank();
        JsonNode vols = rest.get("/networkvolumes", auth()).json();
        String vid = vols.get(0).get("id").asString();
        assertThat(rest.get("/networkvolumes/" + vid, auth()).json().get("dataCenterId").asString()).isEqualTo("EU-RO-1");
        assertThat(rest.get("/networkvolumes/nope", auth()).status()).isEqualTo(404);

        JsonNode gpus = root.post("/graphql", "{\"query\":\"query GpuTypes { gpuTypes { id displayName memoryInGb } }\"}", auth()).json();
        assertThat(gpus.get("data").get("gpuTypes").get(0).get("id").asString()).isEqualTo("NVIDIA GeForce RTX 4090");
        assertThat(gpus.get("data").get("gpuTypes").get(0).get("securePrice").asDouble()).isEqualTo(0.69);
        JsonNode me = root.post("/graphql?api_key=" + KEY, "{\"query\":\"query myself { myself { id pubKey networkVolumes { id } } }\"}").json();
        assertThat(me.get("data").get("myself").get("clientBalance").asDouble()).isEqualTo(100.0);
        assertThat(me.get("data").get("myself").get("networkVolumes").get(0).get("id").asString()).isEqualTo(vid);
        Http.Answer other = root.post("/graphql", "{\"query\":\"query { pods { id } }\"}", auth());
        assertThat(other.json().get("errors").get(0).get("message").asString()).isNotBlank();
    }

    private JsonNode get(String id) {
        return rest.get("/pods/" + id, auth()).json();
    }
}

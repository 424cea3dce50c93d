package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A whole Kiln on a random port with a fresh embedded database and the sandbox, shared by the
 * test classes that extend this (one Spring context). Tests talk to it over real HTTP.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.sandbox-latency=300ms",
        "kiln.allow-private-urls=true",
        "kiln.job-timeout=20m",
        "kiln.max-run-jobs=200",
        "kiln.max-body=8MB",
        "kiln.catalog-dir=src/test/resources/catalog-test",
        // The test catalogue's workflows load test.safetensors (the sandbox has the shipped catalogue's models).
        "kiln.sandbox-comfy-models=checkpoints/test.safetensors",
        // The RunPod worker format's endpoints beside "default": one pool per provider.
        "kiln.runpod-endpoints=rp=test-workflow-runpod,comfy=test-workflow-comfyui,short=test-workflow-short",
        // Vibewave workflows beside comfyui_image_qwen: qwen-image on one provider each.
        "kiln.vibewave-workflows=qwen_on_runpod=test-qwen-runpod,qwen_on_comfyui=test-qwen-comfyui",
        "logging.level.dev.kiln=INFO"})
public abstract class KilnIntegrationTest {
    static final Path DATA;

    static {
        try {
            DATA = Files.createTempDirectory("kiln-it");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry r) {
        r.add("kiln.data-dir", DATA::toString);
    }

    @LocalServerPort
    protected int port;
    protected Http http;

    @BeforeEach
    void client() {
        http = new Http("http://127.0.0.1:" + port);
    }

    /** Waits until the job is terminal and returns it. */
    protected JsonNode awaitJob(String id, Duration max) {
        JsonNode[] last = {null};
        await().atMost(max).pollInterval(Duration.ofMillis(50)).until(() -> {
            last[0] = http.get("/v1/jobs/" + id).json();
            return List.of("succeeded", "failed", "canceled", "timed_out").contains(last[0].get("status").asString());
        });
        return last[0];
    }

    protected JsonNode awaitRun(String id, Duration max) {
        JsonNode[] last = {null};
        await().atMost(max).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = http.get("/v1/runs/" + id).json();
            return !last[0].get("status").asString().equals("running");
        });
        return last[0];
    }

    protected String submitJob(String json) {
        Http.Answer a = http.post("/v1/jobs", json);
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        return a.json().get("id").asString();
    }
}

package dev.kiln.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.account.AccountAdmin;
import dev.kiln.account.AccountStore;
import dev.kiln.emulator.runpodpods.RunPodPodsEmulator;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.testing.Http;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * What the pod pool tests share: a whole Kiln whose only ComfyUI backends are the pool's pods on
 * the sandbox's RunPod pods emulator (the sandbox's own ComfyUI and RunPod worker are disabled, so a
 * ComfyUI job waits until a pod is ready), and a sampler of how many pods run at RunPod.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS) // a pool left running would keep adding pods
abstract class PodPoolTesting {

    /** A database of its own per test class: two pools on one database would each see the other's pods. */
    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry r) {
        Path dir;
        try {
            dir = Files.createTempDirectory("kiln-pods");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        r.add("kiln.data-dir", dir::toString);
    }

    @LocalServerPort
    int port;
    @Autowired
    Sandbox sandbox;
    @Autowired
    AccountStore accounts;
    @Autowired
    AccountAdmin admin;
    Http http;
    RunPodPodsEmulator runpod;
    final AtomicInteger mostRunning = new AtomicInteger();
    private volatile boolean sampling = true;
    private Thread sampler;

    @BeforeAll
    void onlyPods() {
        for (String p : List.of("comfyui", "runpod")) accounts.findByLabel(p, "sandbox").ifPresent(a -> admin.disable(a.id()));
        runpod = sandbox.emulator(RunPodPodsEmulator.class);
        assertThat(runpod).as("the sandbox runs the RunPod pods emulator").isNotNull();
        sampler = Thread.ofVirtual().start(() -> {
            while (sampling) {
                int n = (int) runpod.pods().values().stream().filter("RUNNING"::equals).count();
                mostRunning.accumulateAndGet(n, Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    @AfterAll
    void stopSampling() {
        sampling = false;
        if (sampler != null) sampler.interrupt();
    }

    @BeforeEach
    void client() {
        http = new Http("http://127.0.0.1:" + port);
    }

    static String workflow(String tag) {
        return """
                {"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"test.safetensors"}},
                 "6":{"class_type":"CLIPTextEncode","inputs":{"text":"%s","clip":["4",1]}},
                 "5":{"class_type":"EmptyLatentImage","inputs":{"width":48,"height":32,"batch_size":1}},
                 "3":{"class_type":"KSampler","inputs":{"seed":3,"steps":2,"cfg":6,"sampler_name":"euler","scheduler":"normal","denoise":1,
                      "model":["4",0],"positive":["6",0],"negative":["6",0],"latent_image":["5",0]}},
                 "8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},
                 "9":{"class_type":"SaveImage","inputs":{"filename_prefix":"pooled","images":["8",0]}}}""".formatted(tag);
    }

    String submit(String tag) {
        Http.Answer a = http.post("/v1/jobs", "{\"model\":\"test-comfyui-workflow\",\"params\":{\"workflow\":" + workflow(tag) + "}}");
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        return a.json().get("id").asString();
    }

    JsonNode awaitJob(String id, Duration max) {
        JsonNode[] last = {null};
        await().atMost(max).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = http.get("/v1/jobs/" + id).json();
            return List.of("succeeded", "failed", "canceled", "timed_out").contains(last[0].get("status").asString());
        });
        return last[0];
    }

    JsonNode pool() {
        Http.Answer a = http.get("/v1/admin/pods");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a.json();
    }

    List<JsonNode> decisions(String action) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode d : pool().get("decisions")) if (d.get("action").asString().equals(action)) out.add(d);
        return out;
    }

    /** Waits until every pod is terminated at RunPod and the pool runs none. */
    void awaitEmpty(Duration max) {
        await().atMost(max).pollInterval(Duration.ofMillis(200)).until(() -> runpod.pods().isEmpty() && pool().get("running_pods").asInt() == 0);
    }
}

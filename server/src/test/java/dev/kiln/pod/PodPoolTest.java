package dev.kiln.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.comfyui.ComfyUiEmulator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.test.context.SpringBootTest;
import tools.jackson.databind.JsonNode;

/**
 * The pod pool against the RunPod pods emulator, end to end over real HTTP: from no pod to its
 * maximum under a queue and back to none when idle; a pod killed mid-job is replaced and the job
 * runs again on another pod and succeeds.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.sandbox-latency=1500ms",
        "kiln.allow-private-urls=true",
        "kiln.catalog-dir=src/test/resources/catalog-test",
        "kiln.sandbox-comfy-models=checkpoints/test.safetensors",
        "kiln.pods.enabled=true",
        "kiln.pods.max=3",
        "kiln.pods.jobs-per-pod=2",
        "kiln.pods.scale-up-after=1s",
        "kiln.pods.idle-stop-after=2s",
        "kiln.pods.terminate-after=2s",
        "kiln.pods.interval=300ms",
        "kiln.pods.pod-concurrency=1",
        "kiln.pods.gpu-types=NVIDIA GeForce RTX 4090",
        "kiln.pods.max-spend-per-hour=5"})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PodPoolTest extends PodPoolTesting {

    @Test
    @Order(1)
    void scalesFromNoPodToItsMaximumUnderAQueueAndBackToNoneWhenIdle() {
        assertThat(runpod.pods()).isEmpty();
        String tag = "scale " + UUID.randomUUID();
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 8; i++) jobs.add(submit(tag + " " + i));
        for (String id : jobs) assertThat(awaitJob(id, Duration.ofSeconds(120)).get("status").asString()).isEqualTo("succeeded");
        assertThat(mostRunning.get()).as("8 jobs, 1 pod per 2, at most 3").isEqualTo(3);
        assertThat(runpod.created()).isEqualTo(3);

        awaitEmpty(Duration.ofSeconds(60));
        assertThat(decisions("scale_up")).hasSize(3).allSatisfy(d -> assertThat(d.get("reason").asString())
                .contains("ComfyUI job(s) queued").contains("1 per 2 jobs, at most 3").contains("NVIDIA GeForce RTX 4090"));
        assertThat(decisions("ready")).hasSize(3);
        assertThat(decisions("stop")).hasSize(3).allSatisfy(d -> assertThat(d.get("reason").asString()).contains("idle time cost $"));
        assertThat(decisions("terminate")).hasSize(3);
        JsonNode pool = pool();
        assertThat(pool.get("pods")).allSatisfy(p -> assertThat(p.get("state").asString()).isEqualTo("terminated"));
        assertThat(pool.get("idle_cost").asDouble()).isPositive();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(http.get("/metrics").text()).containsPattern("kiln_pod_decisions_total\\{action=\"scale_up\"[^}]*} 3\\.0")
                .containsPattern("kiln_pods\\{[^}]*state=\"ready\"[^}]*} 0\\.0")
                .containsPattern("kiln_pods_spend_per_hour\\{[^}]*} 0\\.0"));
    }

    @Test
    @Order(2)
    void aPodKilledMidJobIsReplacedAndTheJobRunsAgainOnAnotherPodAndSucceeds() {
        int before = runpod.created();
        String tag = "killed " + UUID.randomUUID();
        String job = submit(tag);
        String[] victim = {null};
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
            for (String id : runpod.pods().keySet()) {
                ComfyUiEmulator c = runpod.comfy(id);
                if (c != null && c.submissions().stream().anyMatch(s -> s.prompt().toString().contains(tag))) {
                    victim[0] = id;
                    return true;
                }
            }
            return false;
        });
        assertThat(http.get("/v1/jobs/" + job).json().get("status").asString()).isEqualTo("running");
        assertThat(runpod.kill(victim[0])).isTrue();

        JsonNode done = awaitJob(job, Duration.ofSeconds(90));
        assertThat(done.get("status").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(runpod.created()).as("the dead pod was replaced by a new one").isEqualTo(before + 2);
        assertThat(decisions("replace")).anySatisfy(d -> {
            assertThat(d.get("pod_id").asString()).isEqualTo(victim[0]);
            assertThat(d.get("reason").asString()).contains("RunPod shows it EXITED").contains(job).contains("back to the queue");
        });
        boolean ranElsewhere = runpod.pods().keySet().stream().filter(id -> !id.equals(victim[0])).map(runpod::comfy)
                .anyMatch(c -> c != null && c.submissions().stream().anyMatch(s -> s.prompt().toString().contains(tag)));
        assertThat(ranElsewhere).as("the job ran again on the replacement pod").isTrue();
        // Vibewave's views name the pod that ran a job from its account's pod_id setting.
        assertThat(accounts.list()).filteredOn(a -> a.label().startsWith("pod-"))
                .allSatisfy(a -> assertThat(a.config()).containsEntry("pod_id", a.label().substring(4)).containsEntry("pod_ip", "127.0.0.1"));
        awaitEmpty(Duration.ofSeconds(60));
    }
}

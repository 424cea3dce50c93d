package dev.kiln.crash;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.testing.Http;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * {@code ./kiln serve} killed while jobs run on every sandbox provider, then started again: the
 * emulators of Replicate, ComfyUI and RunPod start empty (only WaveSpeed's keeps a journal), yet
 * every job still succeeds — in the sandbox, a job the emulator lost simply runs again.
 */
class SandboxRestartTest {
    @TempDir Path dir;
    private final List<KilnProcess> started = new ArrayList<>();

    @AfterEach
    void stopAll() {
        started.forEach(KilnProcess::close);
    }

    @Test
    void jobsInFlightOnEverySandboxProviderSucceedAfterAKill() {
        int port = KilnProcess.freePort();
        KilnProcess a = start(port, 1);
        List<String> runs = new ArrayList<>();
        Map<String, String> models = Map.of("flux-schnell", "{}", "qwen-image", "{\"width\":256,\"height\":256}",
                "pony-v6-xl", "{\"width\":512,\"height\":512}", "sandbox-image", "{\"width\":64,\"height\":64}");
        for (var m : models.entrySet()) {
            Http.Answer r = a.http.post("/v1/runs", "{\"model\":\"" + m.getKey() + "\",\"prompts\":[\"restart " + m.getKey()
                    + "\"],\"count\":2,\"params\":" + m.getValue() + "}");
            assertThat(r.status()).as(r.toString()).isEqualTo(202);
            runs.add(r.json().get("id").asString());
        }
        // Kill once every job is at its provider.
        waitFor(a, runs, Duration.ofSeconds(30), jobs -> jobs.stream().allMatch(j -> !j.path("remote_id").isNull()));
        a.kill();

        KilnProcess b = start(port, 2);
        // The in-memory Replicate emulator forgets its predictions with the process, so those jobs
        // go through reconcile (backing off 5, 10, 20 s…) and a second submit: on a loaded machine
        // that alone can take a minute.
        List<JsonNode> jobs = waitFor(b, runs, Duration.ofSeconds(150), js -> js.stream()
                .allMatch(j -> List.of("succeeded", "failed", "canceled", "timed_out").contains(j.path("status").asString())));
        assertThat(jobs).hasSize(8);
        for (JsonNode j : jobs) {
            assertThat(j.path("status").asString()).as("%s", j).isEqualTo("succeeded");
            assertThat(j.path("outputs").size()).as("%s", j).isEqualTo(1);
            assertThat(b.http.get(j.path("outputs").get(0).path("url").asString()).status()).isEqualTo(200);
        }
    }

    private KilnProcess start(int port, int n) {
        KilnProcess k = KilnProcess.start(port, Map.of(
                "KILN_DATA_DIR", dir.resolve("data").toString(),
                "KILN_SANDBOX", "on",
                "KILN_SANDBOX_LATENCY", "4s",
                "KILN_SANDBOX_FAIL_RATE", "0",
                "KILN_LEASE", "5s"), dir.resolve("kiln-" + n + ".log"), CrashContract.START);
        started.add(k);
        return k;
    }

    private static List<JsonNode> waitFor(KilnProcess k, List<String> runs, Duration max, java.util.function.Predicate<List<JsonNode>> done) {
        long deadline = System.nanoTime() + max.toNanos();
        while (true) {
            List<JsonNode> jobs = new ArrayList<>();
            for (String run : runs) k.http.get("/v1/jobs?run=" + run + "&limit=100").json().path("items").forEach(jobs::add);
            if (jobs.size() == 2 * runs.size() && done.test(jobs)) return jobs;
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting; jobs: " + jobs + "\n" + k.logTail());
            KilnProcess.sleep(100);
        }
    }
}

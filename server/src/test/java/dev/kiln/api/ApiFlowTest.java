package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.emulator.wavespeed.WaveSpeedEmulator;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/** The /v1 API end to end: real HTTP into Kiln, real HTTP from Kiln to the sandbox emulator. */
class ApiFlowTest extends KilnIntegrationTest {
    @Autowired
    Sandbox sandbox;

    static byte[] png(int w, int h) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < w; x++) for (int y = 0; y < h; y++) img.setRGB(x, y, (x * 7) ^ (y * 13));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    static String dataUri(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }

    @Test
    void aRunOfThreePromptsTimesTwoSucceedsWithDownloadablePngs() throws Exception {
        Http.Answer a = http.post("/v1/runs", """
                {"model":"sandbox-image","prompts":["a","b","c"],"count":2,"params":{"width":128,"height":96}}""");
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        JsonNode run = a.json();
        assertThat(run.get("total").asInt()).isEqualTo(6);
        assertThat(run.get("jobs")).hasSize(6);
        assertThat(run.get("status").asString()).isEqualTo("running");

        JsonNode done = awaitRun(run.get("id").asString(), Duration.ofSeconds(30));
        assertThat(done.get("status").asString()).isEqualTo("succeeded");
        assertThat(done.get("counts").get("succeeded").asInt()).isEqualTo(6);
        assertThat(done.get("finished_at").isNull()).isFalse();
        assertThat(done.get("elapsed_seconds").asDouble()).isPositive();
        Set<Long> seeds = new HashSet<>();
        for (JsonNode job : done.get("jobs")) {
            assertThat(job.get("status").asString()).isEqualTo("succeeded");
            assertThat(job.get("provider").asString()).isEqualTo("sandbox");
            assertThat(job.get("error").isNull()).isTrue();
            long seed = job.get("params").get("seed").asLong();
            assertThat(seed).isNotNegative();
            seeds.add(seed);
            JsonNode out = job.get("outputs").get(0);
            assertThat(out.get("mime").asString()).isEqualTo("image/png");
            assertThat(out.get("width").asInt()).isEqualTo(128);
            Http.Answer bytes = http.get(out.get("url").asString());
            assertThat(bytes.status()).isEqualTo(200);
            assertThat(bytes.header("content-type")).startsWith("image/png");
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes.body()));
            assertThat(img.getWidth()).isEqualTo(128);
            assertThat(img.getHeight()).isEqualTo(96);
            assertThat(http.get(out.get("thumbnail_url").asString()).status()).isEqualTo(200);
        }
        assertThat(seeds).as("each job got its own random seed").hasSize(6);
    }

    @Test
    void aJobGoesThroughItsLifecycleAndRecordsItsHistory() {
        String id = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"a lighthouse\",\"params\":{\"width\":64,\"height\":64,\"seed\":42}}");
        JsonNode job = awaitJob(id, Duration.ofSeconds(20));
        assertThat(job.get("status").asString()).isEqualTo("succeeded");
        assertThat(job.get("params").get("seed").asLong()).isEqualTo(42);
        assertThat(job.get("attempts").asInt()).isEqualTo(1);
        assertThat(job.get("remote_id").asString()).isNotBlank();
        assertThat(job.get("progress").asDouble()).isEqualTo(1.0);
        assertThat(job.get("started_at").isNull()).isFalse();
        JsonNode history = http.get("/v1/jobs/" + id + "/history").json();
        List<String> states = new ArrayList<>();
        history.forEach(h -> states.add(h.get("to").asString()));
        assertThat(states).containsExactly("queued", "running", "succeeded");
    }

    @Test
    void aGridExpandsIntoOneJobPerCell() {
        Http.Answer a = http.post("/v1/runs", """
                {"model":"sandbox-image","prompt":"grid","grid":{"width":[64,80],"output_format":["png","jpeg"]},"params":{"height":64}}""");
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        JsonNode done = awaitRun(a.json().get("id").asString(), Duration.ofSeconds(30));
        assertThat(done.get("status").asString()).isEqualTo("succeeded");
        Set<String> cells = new HashSet<>();
        for (JsonNode j : done.get("jobs")) {
            JsonNode cell = j.get("grid_cell");
            cells.add(cell.get("width").asInt() + "/" + cell.get("output_format").asString());
            JsonNode out = j.get("outputs").get(0);
            assertThat(out.get("width").asInt()).isEqualTo(cell.get("width").asInt());
            assertThat(out.get("mime").asString()).isEqualTo(cell.get("output_format").asString().equals("png") ? "image/png" : "image/jpeg");
        }
        assertThat(cells).containsExactlyInAnyOrder("64/png", "64/jpeg", "80/png", "80/jpeg");
    }

    @Test
    void anIdempotencyKeyReturnsTheFirstAnswerAndCreatesNothingTwice() {
        String body = "{\"model\":\"sandbox-image\",\"prompt\":\"once\",\"params\":{\"width\":64,\"height\":64}}";
        Http.Answer first = http.post("/v1/jobs", body, Map.of("Idempotency-Key", "k-123"));
        Http.Answer again = http.post("/v1/jobs", body, Map.of("Idempotency-Key", "k-123"));
        assertThat(first.status()).isEqualTo(202);
        assertThat(again.status()).isEqualTo(202);
        assertThat(again.json().get("id").asString()).isEqualTo(first.json().get("id").asString());
        assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
        Http.Answer other = http.post("/v1/jobs", body.replace("once", "twice"), Map.of("Idempotency-Key", "k-123"));
        assertThat(other.status()).isEqualTo(409);
        assertThat(other.json().get("code").asString()).isEqualTo("conflict");
    }

    @Test
    void cancellingARunningJobCancelsItAtTheProviderToo() {
        sandbox.emulator(WaveSpeedEmulator.class).faults().neverComplete(1);
        String id = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"forever\",\"params\":{\"width\":64,\"height\":64}}");
        JsonNode running = awaitField(id, "remote_id");
        String remote = running.get("remote_id").asString();
        JsonNode canceled = http.post("/v1/jobs/" + id + "/cancel", "").json();
        assertThat(canceled.get("status").asString()).isEqualTo("canceled");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> List.of("deleted", "cancelled", "canceled").contains(sandbox.emulator(WaveSpeedEmulator.class).status(remote)));
        JsonNode again = http.post("/v1/jobs/" + id + "/cancel", "").json();
        assertThat(again.get("status").asString()).as("a terminal job is returned unchanged").isEqualTo("canceled");
    }

    private JsonNode awaitField(String id, String field) {
        JsonNode[] last = {null};
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            last[0] = http.get("/v1/jobs/" + id).json();
            return last[0].hasNonNull(field);
        });
        return last[0];
    }

    @Test
    void deletingAJobRemovesItAndItsOutputs() {
        String id = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"to delete\",\"params\":{\"width\":64,\"height\":64}}");
        JsonNode job = awaitJob(id, Duration.ofSeconds(20));
        String asset = job.get("outputs").get(0).get("asset_id").asString();
        assertThat(http.delete("/v1/jobs/" + id).status()).isEqualTo(204);
        assertThat(http.get("/v1/jobs/" + id).status()).isEqualTo(404);
        assertThat(http.get("/v1/assets/" + asset).status()).isEqualTo(404);
    }

    @Test
    void listsPageWithACursor() {
        Http.Answer a = http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"p1\",\"p2\",\"p3\",\"p4\",\"p5\"],\"params\":{\"width\":64,\"height\":64}}");
        String run = a.json().get("id").asString();
        List<String> seen = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = http.get("/v1/jobs?run=" + run + "&limit=2" + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.get("items").forEach(j -> seen.add(j.get("id").asString()));
            cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asString();
        } while (cursor != null);
        assertThat(seen).hasSize(5).doesNotHaveDuplicates();
        List<String> sorted = new ArrayList<>(seen);
        sorted.sort(java.util.Comparator.reverseOrder());
        assertThat(seen).as("newest first").isEqualTo(sorted);
        assertThat(http.get("/v1/jobs?cursor=garbage").status()).isEqualTo(422);
        assertThat(http.get("/v1/jobs?limit=0").status()).isEqualTo(422);
        assertThat(http.get("/v1/jobs?status=nope").json().get("errors").get(0).get("field").asString()).isEqualTo("status");
        JsonNode runs = http.get("/v1/runs?limit=1").json();
        assertThat(runs.get("items")).hasSize(1);
    }

    @Test
    void eventsStreamEachStateChangeOfAJob() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(http.uri("/v1/events")).header("Accept", "text/event-stream").GET().build();
        HttpResponse<InputStream> stream = http.client().send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.statusCode()).isEqualTo(200);
        List<String> statuses = new java.util.concurrent.CopyOnWriteArrayList<>();
        String[] jobId = {null};
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!line.startsWith("data:")) continue;
                    JsonNode j = dev.kiln.support.Json.parse(line.substring(5).trim());
                    if (jobId[0] != null && j.get("id").asString().equals(jobId[0])) {
                        statuses.add(j.get("status").asString());
                        if (j.get("status").asString().equals("succeeded")) return;
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Thread.sleep(200);
        jobId[0] = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"streamed\",\"params\":{\"width\":64,\"height\":64}}");
        reader.get(20, TimeUnit.SECONDS);
        assertThat(statuses).contains("running").endsWith("succeeded");
        assertThat(statuses.getLast()).isEqualTo("succeeded");
    }

    @Test
    void imageInputsAreStoredAndSentToTheProvider() throws Exception {
        String id = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"edit\",\"images\":{\"reference\":[\"" + dataUri(png(40, 30)) + "\"]},"
                + "\"params\":{\"width\":64,\"height\":64}}");
        JsonNode job = awaitJob(id, Duration.ofSeconds(20));
        assertThat(job.get("status").asString()).as(job.toString()).isEqualTo("succeeded");
        assertThat(job.get("mode").asString()).isEqualTo("img2img");
        String input = job.get("inputs").get("reference").get(0).asString();
        Http.Answer stored = http.get("/v1/assets/" + input);
        assertThat(stored.status()).isEqualTo(200);
        assertThat(ImageIO.read(new ByteArrayInputStream(stored.body())).getWidth()).isEqualTo(40);
        var sub = sandbox.emulator(WaveSpeedEmulator.class).submissions().stream().filter(s -> s.id().equals(job.get("remote_id").asString())).findFirst().orElseThrow();
        assertThat(sub.model()).isEqualTo("kiln/sandbox-image/edit");
        assertThat(sub.input().get("images")).hasSize(1);
        assertThat(sub.input().get("images").get(0).asString()).startsWith("http");
    }

    @Test
    void seedreamRunsOnTheWaveSpeedEmulatorWithItsSizeFormat() {
        String id = submitJob("{\"model\":\"seedream-v4.5\",\"prompt\":\"a fox\",\"params\":{\"width\":1440,\"height\":2560}}");
        JsonNode job = awaitJob(id, Duration.ofSeconds(30));
        assertThat(job.get("status").asString()).as(job.toString()).isEqualTo("succeeded");
        assertThat(job.get("provider").asString()).isEqualTo("wavespeed");
        assertThat(job.get("cost").asDouble()).as("WaveSpeed's flat price per image").isEqualTo(40.0);
        var sub = sandbox.emulator(WaveSpeedEmulator.class).submissions().stream().filter(s -> s.id().equals(job.get("remote_id").asString())).findFirst().orElseThrow();
        assertThat(sub.model()).isEqualTo("bytedance/seedream-v4.5");
        assertThat(sub.input().get("size").asString()).isEqualTo("1440*2560");
        assertThat(sub.input().has("seed")).as("not in WaveSpeed's Seedream v4.5 schema").isFalse();
        assertThat(job.get("outputs").get(0).get("height").asInt()).isEqualTo(2560);
    }

    @Test
    void healthReadinessMetricsAndApiDocsAnswer() {
        JsonNode h = http.get("/health").json();
        assertThat(h.get("status").asString()).isEqualTo("ok");
        assertThat(h.has("timestamp")).isTrue();
        assertThat(h.get("uptime").isNumber()).isTrue();
        Http.Answer ready = http.get("/health/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().get("database").get("status").asString()).isEqualTo("ok");
        assertThat(ready.json().get("providers").get("sandbox").get("status").asString()).isEqualTo("ok");
        Http.Answer metrics = http.get("/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.text()).contains("kiln_jobs{").contains("jvm_memory_used_bytes");
        JsonNode api = http.get("/openapi.json").json();
        assertThat(api.get("paths").has("/v1/jobs")).isTrue();
        assertThat(api.get("paths").has("/v1/runs/{id}")).isTrue();
        assertThat(http.get("/docs").status()).isIn(200, 302);
    }

    @Test
    void modelsDescribeTheirSchema() {
        JsonNode list = http.get("/v1/models").json().get("items");
        assertThat(list).anySatisfy(m -> assertThat(m.get("id").asString()).isEqualTo("sandbox-image"));
        JsonNode m = http.get("/v1/models/seedream-v4.5").json();
        assertThat(m.get("kind").asString()).isEqualTo("image");
        assertThat(m.get("modes").get(1).get("images").get(0).get("max").asInt()).isEqualTo(10);
        JsonNode width = null;
        for (JsonNode p : m.get("params")) if (p.get("name").asString().equals("width")) width = p;
        assertThat(width.get("min").asInt()).isEqualTo(1024);
        assertThat(width.get("default").asInt()).isEqualTo(2048);
        assertThat(m.get("cost").get("default").asDouble()).isEqualTo(40.0);
        assertThat(m.get("bindings").get(0).get("provider").asString()).isEqualTo("wavespeed");
        JsonNode videos = http.get("/v1/models?kind=video").json().get("items");
        assertThat(videos).isNotEmpty().allSatisfy(v -> assertThat(v.get("kind").asString()).isEqualTo("video"));
        assertThat(http.get("/v1/models?action=upscale").json().get("items")).singleElement()
                .satisfies(v -> assertThat(v.get("id").asString()).isEqualTo("real-esrgan"));
        assertThat(http.get("/v1/models/nope").status()).isEqualTo(404);
    }
}

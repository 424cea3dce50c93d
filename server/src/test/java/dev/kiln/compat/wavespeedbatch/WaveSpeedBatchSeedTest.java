package dev.kiln.compat.wavespeedbatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The WaveSpeed batch generator's documented examples (its README's cURL and JavaScript fetch
 * snippets, and its status and health calls), run as they are written — by {@code curl} and
 * {@code node} — against Kiln in the sandbox, with only the base URL changed. Its example image
 * URLs ({@code https://example.com/city.jpg}) do not exist, so the examples as written end in the
 * generator's own error case (500 "Failed to fetch image"); each is run again with an image that
 * exists (served by the test) to see the whole batch through.
 */
class WaveSpeedBatchSeedTest extends KilnIntegrationTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static HttpServer images;
    static String imageBase;

    static final String CURL_SUBMIT = """
            curl -X POST https://your-domain.com/api/batch \\
              -H "Content-Type: application/json" \\
              -d '{
                "prompt": "Cinematic shot of a futuristic city",
                "subjectUrl": "https://example.com/city.jpg",
                "referenceUrls": [],
                "width": 512,
                "height": 512,
                "batchCount": 3
              }'
            """;
    static final String CURL_STATUS = """
            curl https://your-domain.com/status/run-1702424100000-abc123
            """;
    static final String CURL_HEALTH = """
            curl https://YOUR_DOMAIN/health
            """;
    static final String JS_FETCH = """
            const response = await fetch('https://your-domain.com/api/batch', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({
                prompt: 'Your prompt here',
                subjectUrl: 'https://example.com/image.jpg',
                referenceUrls: [],
                width: 512,
                height: 512,
                batchCount: 3
              })
            });

            const { runId, parentId } = await response.json();
            console.log(`Batch started: ${runId}`);
            """;

    @BeforeAll
    static void serveImages() throws Exception {
        images = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        images.createContext("/", ex -> {
            byte[] body = ex.getRequestURI().getPath().endsWith(".jpg") ? jpeg(64, 48) : "not here".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", body.length > 10 && ex.getRequestURI().getPath().endsWith(".jpg") ? "image/jpeg" : "text/plain");
            int status = ex.getRequestURI().getPath().startsWith("/missing") ? 404 : 200;
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        images.start();
        imageBase = "http://127.0.0.1:" + images.getAddress().getPort();
    }

    @AfterAll
    static void stopImages() {
        images.stop(0);
    }

    static byte[] jpeg(int w, int h) {
        try {
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int x = 0; x < w; x++) for (int y = 0; y < h; y++) img.setRGB(x, y, (x * 5) << 16 | (y * 5) << 8 | 90);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "jpg", out);
            return out.toByteArray();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }

    /** Runs a shell snippet from the generator's docs with its base URL pointed at this Kiln; returns stdout. */
    String shell(String snippet) throws Exception {
        String cmd = snippet.replace("https://your-domain.com", base()).replace("https://YOUR_DOMAIN", base());
        Process p = new ProcessBuilder("bash", "-c", cmd.replace("curl ", "curl -sS -w '\\n%{http_code}' ")).redirectErrorStream(false).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    /** curl's answer: the body and, on the last line, the status (added with {@code -w}). */
    record Curl(int status, JsonNode body) {}

    Curl curl(String snippet) throws Exception {
        String out = shell(snippet);
        int nl = out.lastIndexOf('\n');
        return new Curl(Integer.parseInt(out.substring(nl + 1).strip()), JSON.readTree(out.substring(0, nl)));
    }

    String node(String script) throws Exception {
        Path f = Files.createTempFile("seed-000-", ".mjs");
        Files.writeString(f, script.replace("https://your-domain.com", base()));
        Process p = new ProcessBuilder("node", f.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    JsonNode awaitBatch(String runId) {
        JsonNode[] last = {null};
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
            last[0] = http.get("/status/" + runId).json();
            return !last[0].path("status").asString().equals("processing");
        });
        return last[0];
    }

    @Test
    void theCurlExampleAsWrittenIsTheGeneratorsFailedToFetchImageAndQueuesNothing() throws Exception {
        String newestBefore = http.get("/v1/runs?limit=1").json().path("items").path(0).path("id").asString(null);
        Curl c = curl(CURL_SUBMIT);
        assertThat(c.status()).as(c.toString()).isEqualTo(500);
        assertThat(c.body().path("error").asString()).isEqualTo("Failed to fetch image: https://example.com/city.jpg");
        assertThat(c.body().path("details").asString()).startsWith("subjectUrl ");
        assertThat(http.get("/v1/runs?limit=1").json().path("items").path(0).path("id").asString(null)).isEqualTo(newestBefore);
    }

    @Test
    void theCurlExampleWithAnImageThatExistsRunsTheBatchAndStatusAnswersEveryField() throws Exception {
        long before = Instant.now().toEpochMilli();
        Curl c = curl(CURL_SUBMIT.replace("https://example.com/city.jpg", imageBase + "/city.jpg"));
        assertThat(c.status()).as(c.toString()).isEqualTo(200);
        JsonNode a = c.body();
        String runId = a.path("runId").asString();
        assertThat(runId).isNotBlank();
        assertThat(a.has("parentId")).isTrue();
        assertThat(a.path("parentId").isNull()).as("no Airtable configured").isTrue();
        assertThat(a.path("message").asString()).isEqualTo("Batch submitted successfully");
        // 512×512 is below Seedream v4.5's 3,686,400 pixels: raised keeping the square, and said so.
        assertThat(a.path("size").asString()).isEqualTo("1920x1920");

        JsonNode first = curl(CURL_STATUS.replace("run-1702424100000-abc123", runId)).body();
        assertThat(first.path("runId").asString()).isEqualTo(runId);
        assertThat(first.path("prompt").asString()).isEqualTo("Cinematic shot of a futuristic city");
        assertThat(first.path("totalTasks").asInt()).isEqualTo(3);
        assertThat(first.path("startTime").asLong()).isBetween(before - 1000, Instant.now().toEpochMilli());

        JsonNode done = awaitBatch(runId);
        assertThat(done.path("status").asString()).as(done.toString()).isEqualTo("completed");
        assertThat(done.path("totalTasks").asInt()).isEqualTo(3);
        assertThat(done.path("completedTasks").asInt()).isEqualTo(3);
        assertThat(done.path("failedTasks").asInt()).isZero();
        List<String> requestIds = strings(done.path("requestIds"));
        assertThat(requestIds).hasSize(3).doesNotHaveDuplicates();
        assertThat(strings(done.path("seenIds"))).containsExactlyInAnyOrderElementsOf(requestIds);
        assertThat(done.path("failedIds").isArray()).isTrue();
        assertThat(done.path("failedIds")).isEmpty();
        assertThat(done.path("elapsedSeconds").isIntegralNumber()).isTrue();
        assertThat(done.path("size").asString()).isEqualTo("1920x1920");

        // requestIds are the provider's prediction ids: the ids the WaveSpeed (emulator) jobs carry.
        JsonNode run = http.get("/v1/runs/" + runId).json();
        List<String> remote = new ArrayList<>();
        for (JsonNode j : run.path("jobs")) {
            remote.add(j.path("remote_id").asString());
            assertThat(j.path("model").asString()).isEqualTo("seedream-v4.5");
            assertThat(j.path("mode").asString()).isEqualTo("img2img");
            assertThat(j.path("params").path("width").asInt()).isEqualTo(1920);
        }
        assertThat(remote).containsExactlyElementsOf(requestIds);
        // The images the live view shows are Kiln assets, the size the model made.
        assertThat(done.path("outputs")).hasSize(3);
        Http.Answer img = http.get(done.path("outputs").get(0).asString());
        assertThat(img.status()).isEqualTo(200);
        BufferedImage out = ImageIO.read(new ByteArrayInputStream(img.body()));
        assertThat(out.getWidth()).isEqualTo(1920);
        assertThat(out.getHeight()).isEqualTo(1920);
    }

    @Test
    void theJavaScriptFetchExampleRunsAsWritten() throws Exception {
        // As written: the generator's own answer is a 500 without a runId, which the snippet prints as undefined.
        assertThat(node(JS_FETCH)).isEqualTo("Batch started: undefined");
        String out = node(JS_FETCH.replace("https://example.com/image.jpg", imageBase + "/image.jpg"));
        assertThat(out).startsWith("Batch started: ");
        String runId = out.substring("Batch started: ".length());
        assertThat(http.get("/status/" + runId).json().path("totalTasks").asInt()).isEqualTo(3);
        assertThat(awaitBatch(runId).path("status").asString()).isEqualTo("completed");
    }

    @Test
    void theStatusAndHealthExamplesAnswerInTheGeneratorsShape() throws Exception {
        Curl unknown = curl(CURL_STATUS);
        assertThat(unknown.status()).isEqualTo(404);
        Curl health = curl(CURL_HEALTH);
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.body().path("status").asString()).isEqualTo("ok");
        assertThat(Instant.parse(health.body().path("timestamp").asString())).isBefore(Instant.now().plusSeconds(1));
        assertThat(health.body().path("uptime").isNumber()).isTrue();
        assertThat(health.body().path("uptime").asDouble()).isPositive();
    }

    @Test
    void missingFieldsAreTheGenerators400AndCreateNothing() {
        for (String body : List.of("{}", "{\"prompt\":\"a city\"}", "{\"subjectUrl\":\"" + imageBase + "/a.jpg\"}",
                "{\"prompt\":\"\",\"subjectUrl\":\"" + imageBase + "/a.jpg\"}")) {
            Http.Answer a = http.post("/api/batch", body);
            assertThat(a.status()).as(body).isEqualTo(400);
            assertThat(a.json().path("error").asString()).isEqualTo("Missing required fields");
        }
    }

    @Test
    void batchCountAndSizesOutsideTheFormsRangesAre400InTheGeneratorsShape() {
        String ok = "\"prompt\":\"a city\",\"subjectUrl\":\"" + imageBase + "/a.jpg\"";
        for (String extra : List.of("\"batchCount\":0", "\"batchCount\":11", "\"batchCount\":\"many\"")) {
            Http.Answer a = http.post("/api/batch", "{" + ok + "," + extra + "}");
            assertThat(a.status()).as(extra).isEqualTo(400);
            assertThat(a.json().path("error").asString()).isEqualTo("batchCount must be between 1 and 10");
        }
        for (String extra : List.of("\"width\":255,\"height\":512", "\"width\":512,\"height\":2049", "\"width\":-1,\"height\":512")) {
            Http.Answer a = http.post("/api/batch", "{" + ok + "," + extra + "}");
            assertThat(a.status()).as(extra).isEqualTo(400);
            assertThat(a.json().path("error").asString()).isEqualTo("width and height must be between 256 and 2048");
        }
        Http.Answer tooMany = http.post("/api/batch", "{" + ok + ",\"referenceUrls\":[" + ("\"" + imageBase + "/r.jpg\",").repeat(9)
                + "\"" + imageBase + "/r.jpg\"]}");
        assertThat(tooMany.status()).isEqualTo(400);
        assertThat(tooMany.json().path("error").asString()).startsWith("Too many images");
    }

    @Test
    void aReferenceThatCannotBeFetchedIsTheGenerators500NamingIt() {
        Http.Answer a = http.post("/api/batch", "{\"prompt\":\"a city\",\"subjectUrl\":\"" + imageBase + "/a.jpg\",\"referenceUrls\":[\""
                + imageBase + "/b.jpg\",\"" + imageBase + "/missing.jpg\"],\"width\":1024,\"height\":768,\"batchCount\":1}");
        assertThat(a.status()).as(a.toString()).isEqualTo(500);
        assertThat(a.json().path("error").asString()).isEqualTo("Failed to fetch image: " + imageBase + "/missing.jpg");
        assertThat(a.json().path("details").asString()).startsWith("referenceUrls[1] ");
    }

    @Test
    void subjectAndReferencesBecomeTheEditsImagesInOrderAndAWideSizeKeepsItsRatio() {
        Http.Answer a = http.post("/api/batch", "{\"prompt\":\"a city\",\"subjectUrl\":\"" + imageBase + "/s.jpg\",\"referenceUrls\":\""
                + imageBase + "/r1.jpg, " + imageBase + "/r2.jpg\",\"width\":1024,\"height\":512,\"batchCount\":\"2\"}");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        // 1024×512 (2:1) raised to at least 3,686,400 pixels: 2716×1358.
        assertThat(a.json().path("size").asString()).isEqualTo("2716x1358");
        JsonNode run = http.get("/v1/runs/" + a.json().path("runId").asString()).json();
        assertThat(run.path("total").asInt()).isEqualTo(2);
        JsonNode job = run.path("jobs").get(0);
        assertThat(job.path("inputs").path("reference")).hasSize(3);
        assertThat(job.path("params").path("width").asInt()).isEqualTo(2716);
        assertThat(job.path("params").path("height").asInt()).isEqualTo(1358);
    }

    @Test
    void realSizeRaisesKeepingTheAspectRatioWithinEachSidesRange() {
        var model = dev.kiln.testing.TestCatalog.shipped().find("seedream-v4.5").orElseThrow();
        assertThat(BatchController.realSize(model, 512, 512)).containsExactly(1920, 1920);
        assertThat(BatchController.realSize(model, 2048, 2048)).containsExactly(2048, 2048);
        long[] tall = BatchController.realSize(model, 256, 2048);
        assertThat(tall[0]).isEqualTo(1024);
        assertThat(tall[1]).isEqualTo(4096);
        long[] wide = BatchController.realSize(model, 2048, 1152);
        assertThat(wide[0] * wide[1]).isGreaterThanOrEqualTo(3_686_400);
        assertThat((double) wide[0] / wide[1]).isCloseTo(2048 / 1152.0, org.assertj.core.data.Offset.offset(0.002));
    }

    @Test
    void appIsTheGeneratorsFormPostingToApiBatchAndFollowingStatus() {
        Http.Answer a = http.get("/app");
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.header("content-type")).startsWith("text/html");
        assertThat(a.text()).contains("Prompt", "Subject Image URL", "Reference Image URLs (comma-separated)", "Width", "Height",
                "Batch Count", "Start Batch Generation", "fetch('/api/batch'", "'/status/' + encodeURIComponent(runId)");
    }

    static List<String> strings(JsonNode arr) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : arr) out.add(n.asString());
        return out;
    }
}

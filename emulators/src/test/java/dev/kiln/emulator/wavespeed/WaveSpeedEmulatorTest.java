package dev.kiln.emulator.wavespeed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.emulator.support.Json;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The emulator's wire protocol as a plain HTTP client sees it (docs/PROVIDERS.md, "WaveSpeed"). */
class WaveSpeedEmulatorTest {
    private static final String KEY = "k-123";
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private WaveSpeedEmulator emulator = WaveSpeedEmulator.start(WaveSpeedEmulator.Config.defaults().withApiKey(KEY));

    @AfterEach
    void close() {
        emulator.close();
        client.close();
    }

    private record Answer(int status, JsonNode json, HttpResponse<byte[]> raw) {}

    private Answer call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(emulator.baseUrl() + path))
                .header("Authorization", "Bearer " + KEY)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        JsonNode json = null;
        if (r.headers().firstValue("content-type").orElse("").startsWith("application/json")) json = Json.MAPPER.readTree(r.body());
        return new Answer(r.statusCode(), json, r);
    }

    private Answer submit(String model, String body) throws Exception {
        return call("POST", "/api/v3/" + model, body);
    }

    /** The fields WaveSpeed documents for a prediction (wavespeed.ai/docs/shared/api-result, predictions-api): no input, no code. */
    private static final java.util.Set<String> DOCUMENTED = java.util.Set.of("id", "model", "outputs", "urls", "has_nsfw_contents",
            "status", "created_at", "error", "timings", "executionTime");

    @Test
    void submitAnswersACreatedPredictionInTheEnvelope() throws Exception {
        Answer a = submit("kiln/sandbox-image", "{\"prompt\":\"a fox\",\"size\":\"64*64\",\"seed\":3}");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().path("code").asInt()).isEqualTo(200);
        assertThat(a.json().path("message").asString()).isEqualTo("success");
        JsonNode p = a.json().path("data");
        assertThat(p.path("id").asString()).matches("[0-9a-f]{32}");
        assertThat(p.path("model").asString()).isEqualTo("kiln/sandbox-image");
        assertThat(p.path("status").asString()).isEqualTo("created");
        assertThat(p.path("outputs").isArray() && p.path("outputs").isEmpty()).isTrue();
        assertThat(p.propertyNames()).as("submit answers carry no input").isSubsetOf(DOCUMENTED);
        assertThat(p.path("urls").path("get").asString()).isEqualTo(emulator.baseUrl() + "/api/v3/predictions/" + p.path("id").asString() + "/result");
        assertThat(p.path("error").asString()).isEmpty();
        assertThat(p.has("has_nsfw_contents") && p.has("timings") && p.has("executionTime")).isTrue();
        assertThat(Instant.parse(p.path("created_at").asString())).isBeforeOrEqualTo(Instant.now());

        JsonNode result = call("GET", "/api/v3/predictions/" + p.path("id").asString() + "/result", null).json().path("data");
        assertThat(result.path("status").asString()).isEqualTo("completed");
        assertThat(result.propertyNames()).as("results carry no input").isSubsetOf(DOCUMENTED);
        assertThat(result.path("outputs").get(0).asString()).endsWith("/0.png");
        assertThat(result.path("has_nsfw_contents").get(0).asBoolean()).isFalse();
        JsonNode alias = call("GET", "/api/v3/predictions/" + p.path("id").asString(), null).json().path("data");
        assertThat(alias.path("outputs")).isEqualTo(result.path("outputs"));
    }

    @Test
    void statusGoesCreatedProcessingCompletedWithLatency() throws Exception {
        emulator.close();
        emulator = WaveSpeedEmulator.start(WaveSpeedEmulator.Config.defaults().withLatency(Duration.ofMillis(1000)));
        String id = submit("m/x", "{\"prompt\":\"p\",\"size\":\"32*32\"}").json().path("data").path("id").asString();

        assertThat(emulator.status(id)).isEqualTo("created");
        Thread.sleep(400);
        assertThat(emulator.status(id)).isEqualTo("processing");
        Thread.sleep(700);
        assertThat(emulator.status(id)).isEqualTo("completed");
    }

    @Test
    void refusesMissingOrWrongKeys() throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/api/v3/balance")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(Json.MAPPER.readTree(r.body()).path("code").asInt()).isEqualTo(401);
        assertThat(call("GET", "/api/v3/balance", null).json().path("data").path("balance").asDouble()).isEqualTo(100.0);
    }

    @Test
    void validatesInputsLikeTheService() throws Exception {
        assertBadRequest(submit("m/x", "{\"size\":\"64*64\"}"), "prompt is required");
        assertBadRequest(submit("m/x", "{\"prompt\":\"p\",\"size\":\"64x64\"}"), "size must be");
        assertBadRequest(submit("m/x", "{\"prompt\":\"p\",\"size\":\"8000*64\"}"), "size out of range");
        assertBadRequest(submit("m/x", "{\"prompt\":\"p\",\"num_images\":5}"), "num_images");
        assertBadRequest(submit("m/x", "{\"prompt\":\"p\",\"output_format\":\"gif\"}"), "output_format");
        assertBadRequest(submit("m/x/edit", "{\"prompt\":\"p\"}"), "images is required");
        assertBadRequest(submit("m/x/edit", "{\"prompt\":\"p\",\"images\":[]}"), "1 to 10");
        assertBadRequest(submit("m/x", "not json"), "JSON object");
        assertThat(emulator.submissions()).isEmpty();
        assertThat(call("PUT", "/api/v3/predictions/abc", null).status()).isEqualTo(405);
        assertThat(call("GET", "/api/v3/media/upload/binary", null).status()).isEqualTo(405);
        assertThat(call("GET", "/api/v2/anything", null).status()).isEqualTo(404);

        Answer both = call("POST", "/api/v3/m/x?webhook=https%3A%2F%2Fexample.org%2Fhook",
                "{\"prompt\":\"p\",\"enable_base64_output\":true}");
        assertThat(both.status()).isEqualTo(400);
        assertThat(both.json().path("error").asString()).isEqualTo(
                "webhook callback does not support base64 output, please use the normal API to use base64 output");
    }

    private static void assertBadRequest(Answer a, String message) {
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.json().path("code").asInt()).isEqualTo(400);
        assertThat(a.json().path("message").asString()).contains(message);
    }

    @Test
    void acceptsWidthAndHeightAndServesEveryOutputInItsFormat() throws Exception {
        String id = submit("m/x", "{\"prompt\":\"p\",\"width\":40,\"height\":30,\"num_images\":3,\"output_format\":\"jpeg\"}")
                .json().path("data").path("id").asString();
        JsonNode outputs = call("GET", "/api/v3/predictions/" + id + "/result", null).json().path("data").path("outputs");
        assertThat(outputs.size()).isEqualTo(3);
        for (JsonNode url : outputs) {
            HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(url.asString())).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValue("image/jpeg");
            assertThat(ImageIO.read(new ByteArrayInputStream(r.body())).getWidth()).isEqualTo(40);
        }
        HttpResponse<byte[]> wrong = client.send(HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/outputs/" + id + "/3.jpeg")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(wrong.statusCode()).isEqualTo(404);
    }

    @Test
    void base64OutputsAreNakedBase64() throws Exception {
        String id = submit("m/x", "{\"prompt\":\"p\",\"size\":\"20*16\",\"enable_base64_output\":true}").json().path("data").path("id").asString();
        String out = call("GET", "/api/v3/predictions/" + id + "/result", null).json().path("data").path("outputs").get(0).asString();
        assertThat(out).doesNotStartWith("data:").doesNotContain("\n");
        assertThat(ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(out))).getHeight()).isEqualTo(16);
    }

    @Test
    void syncModeWaitsForTheResultOrAnswers5004AfterItsCap() throws Exception {
        emulator.close();
        emulator = WaveSpeedEmulator.start(WaveSpeedEmulator.Config.defaults().withLatency(Duration.ofMillis(100))
                .withSyncTimeout(Duration.ofMillis(300)));
        JsonNode done = submit("m/x", "{\"prompt\":\"p\",\"size\":\"16*16\",\"enable_sync_mode\":true}").json().path("data");
        assertThat(done.path("status").asString()).isEqualTo("completed");
        assertThat(done.path("outputs").size()).isEqualTo(1);

        emulator.faults().neverComplete(1);
        JsonNode late = submit("m/x", "{\"prompt\":\"p\",\"size\":\"16*16\",\"enable_sync_mode\":true}").json().path("data");
        assertThat(late.path("status").asString()).isEqualTo("processing");
        assertThat(late.path("code").asInt()).isEqualTo(5004);
        assertThat(late.path("urls").path("get").asString()).contains(late.path("id").asString());
    }

    @Test
    void listsNewestFirstWithPagingAndFilters() throws Exception {
        Instant start = Instant.now();
        for (int i = 0; i < 5; i++) submit(i % 2 == 0 ? "m/even" : "m/odd", "{\"prompt\":\"p" + i + "\",\"size\":\"16*16\"}");

        JsonNode page1 = call("POST", "/api/v3/predictions", "{\"page\":1,\"page_size\":2}").json().path("data");
        assertThat(page1.path("total").asInt()).isEqualTo(5);
        assertThat(page1.path("items").size()).isEqualTo(2);
        String[] ids = emulator.submissions().stream().map(WaveSpeedEmulator.Submission::id).toArray(String[]::new);
        assertThat(page1.path("items").get(0).path("id").asString()).isEqualTo(ids[4]);
        assertThat(page1.path("items").get(0).propertyNames()).as("list items carry no input").isSubsetOf(DOCUMENTED);
        JsonNode page3 = call("POST", "/api/v3/predictions", "{\"page\":3,\"page_size\":2}").json().path("data");
        assertThat(page3.path("items").size()).isEqualTo(1);
        assertThat(page3.path("items").get(0).path("id").asString()).isEqualTo(ids[0]);

        JsonNode odd = call("POST", "/api/v3/predictions", "{\"model\":\"m/odd\",\"status\":\"completed\",\"created_after\":\""
                + start.minusSeconds(1) + "\"}").json().path("data");
        assertThat(odd.path("total").asInt()).isEqualTo(2);
        JsonNode none = call("POST", "/api/v3/predictions", "{\"created_before\":\"" + start.minusSeconds(60) + "\"}").json().path("data");
        assertThat(none.path("total").asInt()).isZero();

        assertThat(call("POST", "/api/v3/predictions", "{\"page_size\":101}").status()).isEqualTo(400);
        assertThat(call("POST", "/api/v3/predictions", "{\"created_after\":\"yesterday\"}").status()).isEqualTo(400);
    }

    @Test
    void deleteCancelsARunningTaskAnd404sAnUnknownOne() throws Exception {
        emulator.faults().neverComplete(1);
        String id = submit("m/x", "{\"prompt\":\"p\"}").json().path("data").path("id").asString();

        Answer del = call("DELETE", "/api/v3/predictions/" + id, null);
        assertThat(del.json().path("data").path("status").asString()).isEqualTo("deleted");
        assertThat(del.json().path("data").path("id").asString()).isEqualTo(id);
        assertThat(emulator.status(id)).isEqualTo("cancelled");
        assertThat(call("DELETE", "/api/v3/predictions/00000000000000000000000000000000", null).status()).isEqualTo(404);
    }

    @Test
    void uploadsAreServedBack() throws Exception {
        byte[] png = dev.kiln.emulator.render.SandboxRenderer.render("u", 1, 8, 8, "png");
        String boundary = "b0undary";
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in put.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + png.length + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        System.arraycopy(png, 0, body, head.length, png.length);
        System.arraycopy(tail, 0, body, head.length + png.length, tail.length);
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/api/v3/media/upload/binary"))
                .header("Authorization", "Bearer " + KEY).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());

        JsonNode d = Json.MAPPER.readTree(r.body()).path("data");
        assertThat(d.path("type").asString()).isEqualTo("image");
        assertThat(d.path("filename").asString()).isEqualTo("in_put.png");
        assertThat(d.path("size").asInt()).isEqualTo(png.length);
        HttpResponse<byte[]> back = client.send(HttpRequest.newBuilder(URI.create(d.path("download_url").asString())).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(back.body()).isEqualTo(png);
        assertThat(back.headers().firstValue("content-type")).hasValue("image/png");
    }

    @Test
    void directUploadsAnnounceThenPutThenServe() throws Exception {
        byte[] png = dev.kiln.emulator.render.SandboxRenderer.render("u", 1, 8, 8, "png");
        JsonNode ticket = call("POST", "/api/v3/media/uploads",
                "{\"filename\":\"in put.png\",\"size\":" + png.length + ",\"content_type\":\"image/png\"}").json();
        assertThat(ticket.path("code").asInt()).isEqualTo(200);
        JsonNode upload = ticket.path("data").path("upload");
        assertThat(upload.path("method").asString()).isEqualTo("PUT");
        assertThat(upload.path("headers").path("Content-Type").asString()).isEqualTo("image/png");
        String downloadUrl = ticket.path("data").path("download_url").asString();
        assertThat(client.send(HttpRequest.newBuilder(URI.create(downloadUrl)).build(), HttpResponse.BodyHandlers.ofByteArray())
                .statusCode()).as("nothing to serve before the PUT").isEqualTo(404);

        HttpRequest.Builder put = HttpRequest.newBuilder(URI.create(upload.path("url").asString()))
                .header("Content-Type", "image/png").PUT(HttpRequest.BodyPublishers.ofByteArray(png));
        HttpResponse<String> withKey = client.send(HttpRequest.newBuilder(URI.create(upload.path("url").asString()))
                .header("Content-Type", "image/png").header("Authorization", "Bearer " + KEY)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(png)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(withKey.statusCode()).as("a presigned URL takes no key").isEqualTo(400);
        HttpResponse<String> wrongType = client.send(HttpRequest.newBuilder(URI.create(upload.path("url").asString()))
                .header("Content-Type", "image/jpeg").PUT(HttpRequest.BodyPublishers.ofByteArray(png)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(wrongType.statusCode()).as("the signed content type must match").isEqualTo(403);
        assertThat(client.send(put.build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

        HttpResponse<byte[]> back = client.send(HttpRequest.newBuilder(URI.create(downloadUrl)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(back.body()).isEqualTo(png);
        assertThat(back.headers().firstValue("content-type")).hasValue("image/png");
        assertThat(client.send(put.build(), HttpResponse.BodyHandlers.ofString()).statusCode()).as("a ticket is used once").isEqualTo(403);

        assertBadRequest(call("POST", "/api/v3/media/uploads", "{\"size\":10}"), "filename");
        assertBadRequest(call("POST", "/api/v3/media/uploads", "{\"filename\":\"a.png\",\"size\":30000000}"), "20 MB");
        emulator.faults().refuseDirectUploads(1);
        assertThat(call("POST", "/api/v3/media/uploads", "{\"filename\":\"a.png\",\"size\":10}").status()).isEqualTo(404);
    }

    @Test
    void seedreamRefusesWhatTheModelRefuses() throws Exception {
        String t2i = "bytedance/seedream-v4.5";
        assertBadRequest(submit(t2i, "{\"prompt\":\"p\",\"size\":\"1024*1024\"}"), "3686400 to 16777216 pixels");
        assertBadRequest(submit(t2i, "{\"prompt\":\"p\",\"size\":\"5000*1024\"}"), "each side must be 1024 to 4096");
        assertBadRequest(submit(t2i, "{\"prompt\":\"p\",\"size\":\"2048*2048\",\"seed\":1}"), "unknown parameter 'seed'");
        assertBadRequest(submit(t2i, "{\"prompt\":\"p\",\"num_images\":2}"), "unknown parameter 'num_images'");
        assertBadRequest(submit(t2i, "{\"prompt\":\"p\",\"images\":[\"https://example.org/a.png\"]}"), "unknown parameter 'images'");
        assertBadRequest(submit(t2i + "/edit", "{\"prompt\":\"p\"}"), "images is required");
        String eleven = "[" + String.join(",", java.util.Collections.nCopies(11, "\"https://example.org/a.png\"")) + "]";
        assertBadRequest(submit(t2i + "/edit", "{\"prompt\":\"p\",\"images\":" + eleven + "}"), "1 to 10");
        assertThat(emulator.submissions()).isEmpty();

        String id = submit(t2i, "{\"prompt\":\"p\",\"size\":\"2560*1440\"}").json().path("data").path("id").asString();
        String url = call("GET", "/api/v3/predictions/" + id + "/result", null).json().path("data").path("outputs").get(0).asString();
        HttpResponse<byte[]> out = client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
        var img = ImageIO.read(new ByteArrayInputStream(out.body()));
        assertThat(img.getWidth() * img.getHeight()).isEqualTo(2560 * 1440);
    }

    @Test
    void aSeedreamEditWithoutSizeFollowsItsFirstImage() throws Exception {
        byte[] png = dev.kiln.emulator.render.SandboxRenderer.render("wide", 1, 64, 32, "png");
        String image = "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
        String id = submit("bytedance/seedream-v4.5/edit", "{\"prompt\":\"p\",\"images\":[\"" + image + "\"]}")
                .json().path("data").path("id").asString();
        String url = call("GET", "/api/v3/predictions/" + id + "/result", null).json().path("data").path("outputs").get(0).asString();
        var img = ImageIO.read(new ByteArrayInputStream(client.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofByteArray()).body()));
        assertThat((double) img.getWidth() / img.getHeight()).isCloseTo(2.0, org.assertj.core.data.Offset.offset(0.01));
        assertThat((long) img.getWidth() * img.getHeight()).isGreaterThanOrEqualTo(WaveSpeedModels.SEEDREAM_MIN_PIXELS - 4096);

        String lost = submit("bytedance/seedream-v4.5/edit", "{\"prompt\":\"p\",\"images\":[\"" + emulator.baseUrl()
                + "/media/0000/gone.png\"]}").json().path("data").path("id").asString();
        JsonNode failed = call("GET", "/api/v3/predictions/" + lost + "/result", null).json().path("data");
        assertThat(failed.path("status").asString()).isEqualTo("failed");
        assertThat(failed.path("error").asString()).contains("media url not accessible");
    }

    @Test
    void failedTasksCarryTheirErrorTextAndNoCode() throws Exception {
        emulator.faults().failPredictions(1, 1403, "task execution failed");
        String id = submit("m/x", "{\"prompt\":\"p\",\"size\":\"16*16\"}").json().path("data").path("id").asString();
        JsonNode failed = call("GET", "/api/v3/predictions/" + id + "/result", null).json().path("data");
        assertThat(failed.path("status").asString()).isEqualTo("failed");
        assertThat(failed.path("error").asString()).isEqualTo("task execution failed");
        assertThat(failed.has("code")).as("WaveSpeed documents no per-failure code").isFalse();
    }

    @Test
    void onlyTheWebhookBodyCarriesTheInput() throws Exception {
        try (dev.kiln.emulator.testing.WebhookCatcher catcher = new dev.kiln.emulator.testing.WebhookCatcher()) {
            Answer a = call("POST", "/api/v3/m/x?webhook=" + java.net.URLEncoder.encode(catcher.url(), StandardCharsets.UTF_8),
                    "{\"prompt\":\"hooked\",\"size\":\"16*16\"}");
            assertThat(a.json().path("data").has("input")).isFalse();
            var d = catcher.next(Duration.ofSeconds(10));
            assertThat(d).isNotNull();
            JsonNode body = Json.MAPPER.readTree(d.body());
            assertThat(body.path("input").path("prompt").asString()).isEqualTo("hooked");
            assertThat(body.has("code")).isFalse();
        }
    }

    @Test
    void webhookSecretIsServed() throws Exception {
        assertThat(call("GET", "/api/v3/webhook/secret", null).json().path("data").path("secret").asString())
                .isEqualTo(emulator.config().webhookSecret()).startsWith("whsec_");
    }

    @Test
    void faultCountersAreConsumedOneEventAtATime() throws Exception {
        emulator.faults().failSubmits(2);
        assertThat(submit("m/x", "{\"prompt\":\"p\"}").status()).isEqualTo(500);
        assertThat(submit("m/x", "{\"prompt\":\"p\"}").status()).isEqualTo(500);
        assertThat(submit("m/x", "{\"prompt\":\"p\"}").status()).isEqualTo(200);

        emulator.faults().rateLimitSubmits(1, Duration.ofMillis(1500)).failSubmits(1);
        Answer limited = submit("m/x", "{\"prompt\":\"p\"}");
        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.raw().headers().firstValue("retry-after")).hasValue("2");
        emulator.faults().reset();
        assertThat(submit("m/x", "{\"prompt\":\"p\"}").status()).isEqualTo(200);
        assertThat(emulator.submissions()).hasSize(2);
        assertThatThrownBy(() -> emulator.faults().failPolls(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void droppedSubmitClosesTheConnectionButKeepsThePrediction() {
        emulator.faults().dropSubmitsAfterAccepting(1);
        assertThatThrownBy(() -> submit("m/x", "{\"prompt\":\"p\"}")).isInstanceOf(IOException.class);
        assertThat(emulator.submissions()).singleElement()
                .satisfies(s -> assertThat(emulator.status(s.id())).isEqualTo("completed"));
    }

    @Test
    void configRejectsNonsense() {
        var d = WaveSpeedEmulator.Config.defaults();
        assertThatThrownBy(() -> d.withFailRate(1.5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> d.withWebhookSecret("nope")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> d.withLatency(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    }
}

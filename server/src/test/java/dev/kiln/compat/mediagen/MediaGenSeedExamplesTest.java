package dev.kiln.compat.mediagen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * MediaGen's integration guide run against Kiln with {@code KILN_AUTH=local} in the sandbox: its
 * curl checks exactly as written (only {@code API_URL} set), its four example payloads with the
 * reference image as raw base64, data URI, URL and file, its client code ({@code callGenerateAPI}
 * + {@code pollJobStatus}, under Node), its error cases, and the task routes.
 */
class MediaGenSeedExamplesTest extends KilnIntegrationTest {
    private static final Duration VIDEO = Duration.ofSeconds(150);

    private String base() {
        return "http://127.0.0.1:" + port;
    }

    @Test
    void theGuidesCurlChecksAnswerAsItSays() {
        // "Должно вернуть ошибку 400" on {}, then "Должно работать" for anisora t2v.
        List<JsonNode> out = SeedScripts.curl("curl-required-params.sh", base(), Map.of());
        assertThat(out).hasSize(2);
        assertThat(out.get(0).get("status").asString()).isEqualTo("error");
        assertThat(out.get(0).get("code").asString()).isEqualTo("missing_required_fields");
        assertThat(out.get(0).get("error").asString()).contains("model", "prompt");
        String jobId = out.get(1).get("job_id").asString();
        assertThat(out.get(1).get("status").asString()).isEqualTo("queued");
        assertThat(http.post("/generate", "{}").status()).isEqualTo(400);

        JsonNode done = awaitStatus(jobId);
        assertThat(done.get("status").asString()).as(done.toString()).isEqualTo("completed");
        assertThat(done.get("progress").asInt()).isEqualTo(100);
        JsonNode result = done.get("result");
        assertThat(result.get("status").asString()).isEqualTo("success");
        assertThat(result.get("model").asString()).isEqualTo("anisora");
        assertThat(result.get("type").asString()).isEqualTo("video");
        assertThat(result.get("width").asInt()).isEqualTo(512);
        assertThat(result.get("seed").asLong()).isBetween(0L, 2147483647L);
        assertThat(result.get("metadata").get("num_frames").asInt()).isPositive();
        assertThat(result.get("metadata").get("fps").asDouble()).isPositive();
        assertThat(result.get("metadata").get("inference_time").asDouble()).isPositive();
        assertFetchableWithoutCredentials(result.get("url").asString(), "video/");

        // "Должно вернуть ошибку (нет reference_image для i2v)"
        List<JsonNode> missing = SeedScripts.curl("curl-reference-image.sh", base(), Map.of());
        assertThat(missing).hasSize(1);
        assertThat(missing.getFirst().get("status").asString()).isEqualTo("error");
        assertThat(missing.getFirst().get("code").asString()).isEqualTo("missing_reference_image");
        assertThat(missing.getFirst().get("error").asString()).contains("reference_image");
        assertThat(missing.getFirst().get("details").get("field").asString()).isEqualTo("reference_image");
        String body = SeedScripts.resource("curl-reference-image.sh");
        String json = body.substring(body.indexOf("-d '") + 4, body.lastIndexOf("'"));
        assertThat(http.post("/generate", json).status()).isEqualTo(400);
    }

    @Test
    void theFourExamplePayloadsRunWithTheImageAsBase64DataUriUrlAndFile() throws Exception {
        byte[] png = SeedScripts.png(96, 64, Color.BLUE);
        String raw = Base64.getEncoder().encodeToString(png);
        HttpServer images = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        images.createContext("/ref.png", ex -> {
            ex.getResponseHeaders().add("Content-Type", "image/png");
            ex.sendResponseHeaders(200, png.length);
            ex.getResponseBody().write(png);
            ex.close();
        });
        images.start();
        try {
            String url = "http://127.0.0.1:" + images.getAddress().getPort() + "/ref.png";
            List<String> ids = new ArrayList<>();
            // 1: AniSora t2v (no image); 2: Phr00t i2v with raw base64; 3: Pony txt2img; 4: Flux img2img with a data URI.
            ids.add(submit(SeedScripts.resource("payload-1.json")));
            ids.add(submit(SeedScripts.resource("payload-2.json").replace("<base64_или_file>", raw)));
            ids.add(submit(SeedScripts.resource("payload-3.json")));
            ids.add(submit(SeedScripts.resource("payload-4.json").replace("<base64_или_file>", "data:image/png;base64," + raw)));
            // Flux img2img with the image as a URL, and Pony img2img with it as a multipart file.
            ids.add(submit(SeedScripts.resource("payload-4.json").replace("<base64_или_file>", url)));
            Http.Answer multipart = http.postRaw("/generate", "multipart/form-data; boundary=mgb", multipart("mgb", Map.of(
                    "model", "pony", "type", "image", "mode", "img2img", "prompt", "1girl, reference", "width", "1024", "height", "1024",
                    "seed", "42", "steps", "30", "cfg_scale", "6", "denoising_strength", "0.6"), "reference_image", png));
            assertThat(multipart.status()).as(multipart.toString()).isEqualTo(200);
            ids.add(multipart.json().get("job_id").asString());

            String[] models = {"anisora", "phr00t", "pony", "flux", "flux", "pony"};
            for (int i = 0; i < ids.size(); i++) {
                JsonNode done = awaitStatus(ids.get(i));
                assertThat(done.get("status").asString()).as(i + ": " + done).isEqualTo("completed");
                JsonNode r = done.get("result");
                assertThat(r.get("model").asString()).isEqualTo(models[i]);
                boolean video = i < 2;
                assertThat(r.get("type").asString()).isEqualTo(video ? "video" : "image");
                assertFetchableWithoutCredentials(r.get("url").asString(), video ? "video/" : "image/");
            }
            // The seeds the payloads fixed are the seeds used; -1 became a real one.
            assertThat(awaitStatus(ids.get(1)).get("result").get("seed").asLong()).isEqualTo(123456789L);
            assertThat(awaitStatus(ids.get(3)).get("result").get("seed").asLong()).isEqualTo(987654321L);
            assertThat(awaitStatus(ids.get(5)).get("result").get("seed").asLong()).isEqualTo(42L);
            JsonNode flux = awaitStatus(ids.get(3)).get("result");
            assertThat(flux.get("width").asInt()).isEqualTo(768);
            assertThat(flux.get("height").asInt()).isEqualTo(1024);

            // /results: seed, size, model, type, metadata with the inference time and the parameters used.
            JsonNode res = http.get("/results/" + ids.get(3)).json();
            assertThat(res.get("status").asString()).isEqualTo("completed");
            assertThat(res.get("seed").asLong()).isEqualTo(987654321L);
            assertThat(res.get("size").asString()).isEqualTo("768x1024");
            assertThat(res.get("model").asString()).isEqualTo("flux");
            assertThat(res.get("type").asString()).isEqualTo("image");
            assertThat(res.get("mode").asString()).isEqualTo("img2img");
            assertThat(res.get("metadata").get("inference_time").asDouble()).isPositive();
            assertThat(res.get("metadata").get("steps").asInt()).isEqualTo(25);
            assertThat(res.get("metadata").get("guidance_scale").asDouble()).isEqualTo(3.5);
            assertThat(res.get("metadata").get("denoising_strength").asDouble()).isEqualTo(0.65);
            assertThat(res.get("metadata").get("output_format").asString()).isEqualTo("jpg");
            assertThat(res.get("results")).hasSize(1);
            JsonNode video = http.get("/results/" + ids.get(1)).json();
            assertThat(video.get("metadata").get("num_frames").asInt()).isPositive();
            assertThat(video.get("metadata").get("lighting_variant").asString()).isEqualTo("low_noise");
            assertThat(video.get("metadata").get("cfg_scale").asDouble()).isEqualTo(1.0);
        } finally {
            images.stop(0);
        }
    }

    @Test
    void theGuidesClientCodeRunsUnderNode() {
        String ref = Base64.getEncoder().encodeToString(SeedScripts.png(96, 64, Color.GREEN));
        ObjectNode anisora = ui("video", "t2v");
        ObjectNode phr00t = ui("video", "i2v").put("videoModel", "phr00t").put("referenceImage", ref);
        ObjectNode pony = ui("image", "txt2img");
        ObjectNode flux = ui("image", "img2img").put("imageModel", "flux").put("referenceImage", ref).put("width", 768);
        ObjectNode locked = ui("video", "t2v").put("videoSteps", 12);
        String out = SeedScripts.run(Map.of("KILN_URL", base()), "node", "src/test/resources/mediagen/mediagen-client.mjs",
                Json.write(Json.MAPPER.createArrayNode().add(anisora).add(phr00t).add(pony).add(flux).add(locked)));
        List<JsonNode> lines = SeedScripts.jsonValues(out);
        assertThat(lines).hasSize(5);
        for (int i = 0; i < 4; i++) {
            JsonNode l = lines.get(i);
            assertThat(l.get("ok").asBoolean()).as(l.toString()).isTrue();
            assertThat(l.get("result").get("status").asString()).isEqualTo("success");
            assertThat(l.get("result").get("url").asString()).startsWith("http://127.0.0.1:" + port + "/v1/assets/");
            assertThat(l.get("progress")).isNotEmpty();
        }
        assertThat(lines.get(1).get("result").get("model").asString()).isEqualTo("phr00t");
        assertThat(lines.get(3).get("result").get("width").asInt()).isEqualTo(768);
        // The client throws error.error on a refusal: a locked value names the field.
        assertThat(lines.get(4).get("ok").asBoolean()).isFalse();
        assertThat(lines.get(4).get("error").asString()).startsWith("steps: is locked to 8");
    }

    /** The UI's state as MediaGenApp.tsx's defaults set it (the guide's "Автоматическое применение Defaults"). */
    private static ObjectNode ui(String type, String mode) {
        ObjectNode s = Json.object();
        s.put("generationType", type).put("videoModel", "anisora").put("imageModel", "pony").put("videoMode", mode).put("imageMode", mode)
                .put("prompt", "a lighthouse at dusk").put("negativePrompt", "").put("width", 512).put("height", 512).put("seed", -1)
                .put("batchSize", 1).put("outputFormat", type.equals("video") ? "mp4" : "png").put("numFrames", 17).put("fps", 16)
                .put("videoSteps", 8).put("guidanceScale", 1.0).put("motionScore", 3.0).put("cfgScaleVideo", 1.0)
                .put("lightingVariant", "low_noise").put("referenceStrength", 0.85).put("denoisingStrength", 0.7).put("imageSteps", 30)
                .put("sampler", "Euler a").put("cfgScaleImage", 6).put("clipSkip", 2).put("imageGuidanceScale", 3.5)
                .put("imgDenoisingStrength", 0.65);
        if (mode.equals("i2v")) s.put("videoSteps", 4);
        if (type.equals("image")) s.put("width", 1024).put("height", 1024);
        return s;
    }

    @Test
    void lockedValuesAnswer422NamingTheFieldAndUnusedParametersAreIgnored() {
        Http.Answer steps = http.post("/generate", "{\"model\":\"anisora\",\"type\":\"video\",\"mode\":\"t2v\",\"prompt\":\"x\",\"steps\":10}");
        assertThat(steps.status()).isEqualTo(422);
        assertThat(steps.json().get("status").asString()).isEqualTo("error");
        assertThat(steps.json().get("details").get(0).get("field").asString()).isEqualTo("steps");
        assertThat(steps.json().get("error").asString()).startsWith("steps: is locked to 8");
        Http.Answer cfg = http.post("/generate", "{\"model\":\"phr00t\",\"type\":\"video\",\"mode\":\"t2v\",\"prompt\":\"x\",\"steps\":4,\"cfg_scale\":2.0}");
        assertThat(cfg.status()).isEqualTo(422);
        assertThat(cfg.json().get("details").get(0).get("field").asString()).isEqualTo("cfg_scale");
        Http.Answer phrSteps = http.post("/generate", "{\"model\":\"phr00t\",\"mode\":\"t2v\",\"prompt\":\"x\",\"steps\":8}");
        assertThat(phrSteps.status()).isEqualTo(422);

        // What the UI sends along that t2v and this model do not use is ignored.
        Http.Answer extra = http.post("/generate", """
                {"model":"phr00t","type":"video","mode":"t2v","prompt":"x","width":512,"height":512,"seed":7,"num_frames":17,
                 "steps":4,"cfg_scale":1.0,"reference_strength":0.9,"denoising_strength":0.5,"guidance_scale":1.0,"motion_score":3.0,
                 "clip_skip":2,"sampler":"Euler a","vae":"whatever","batch_size":1,"output_format":"webm"}""");
        assertThat(extra.status()).as(extra.toString()).isEqualTo(200);
        assertThat(awaitStatus(extra.json().get("job_id").asString()).get("status").asString()).isEqualTo("completed");

        // A value out of the model's range: 422 under the payload's own name.
        Http.Answer width = http.post("/generate", "{\"model\":\"anisora\",\"mode\":\"t2v\",\"prompt\":\"x\",\"width\":640}");
        assertThat(width.status()).isEqualTo(422);
        assertThat(width.json().get("details").get(0).get("field").asString()).isEqualTo("width");
        // Unknown model, wrong type, arbitrary_frame (not available), missing last frame.
        assertThat(http.post("/generate", "{\"model\":\"sdxl\",\"prompt\":\"x\"}").json().get("code").asString()).isEqualTo("invalid_model");
        assertThat(http.post("/generate", "{\"model\":\"pony\",\"type\":\"video\",\"prompt\":\"x\"}").status()).isEqualTo(422);
        Http.Answer arbitrary = http.post("/generate", "{\"model\":\"anisora\",\"mode\":\"arbitrary_frame\",\"prompt\":\"x\"}");
        assertThat(arbitrary.status()).isEqualTo(422);
        assertThat(arbitrary.json().get("code").asString()).isEqualTo("unsupported_mode");
        String ref = Base64.getEncoder().encodeToString(SeedScripts.png(64, 64, Color.RED));
        Http.Answer last = http.post("/generate", "{\"model\":\"anisora\",\"mode\":\"first_last_frame\",\"prompt\":\"x\",\"reference_image\":\"" + ref + "\"}");
        assertThat(last.status()).isEqualTo(400);
        assertThat(last.json().get("details").get("field").asString()).isEqualTo("last_frame_image");
        Http.Answer notImage = http.post("/generate", "{\"model\":\"flux\",\"mode\":\"img2img\",\"prompt\":\"x\",\"reference_image\":\"bm90IGFuIGltYWdl\"}");
        assertThat(notImage.status()).isEqualTo(422);
        assertThat(notImage.json().get("details").get(0).get("field").asString()).isEqualTo("reference_image");
        Http.Answer notJson = http.post("/generate", "{\"model\":");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.json().get("status").asString()).isEqualTo("error");
    }

    @Test
    void firstAndLastFramesAndABatchMakeOneTask() {
        String first = Base64.getEncoder().encodeToString(SeedScripts.png(64, 64, Color.RED));
        String last = "data:image/png;base64," + Base64.getEncoder().encodeToString(SeedScripts.png(64, 64, Color.YELLOW));
        String id = submit("{\"model\":\"anisora\",\"type\":\"video\",\"mode\":\"first_last_frame\",\"prompt\":\"x\",\"num_frames\":17,"
                + "\"first_frame_image\":\"" + first + "\",\"last_frame_image\":\"" + last + "\",\"reference_strength\":0.9}");
        assertThat(awaitStatus(id).get("status").asString()).isEqualTo("completed");

        String batch = submit("{\"model\":\"pony\",\"type\":\"image\",\"mode\":\"txt2img\",\"prompt\":\"x\",\"width\":512,\"height\":512,"
                + "\"seed\":100,\"steps\":4,\"batch_size\":3}");
        JsonNode done = awaitStatus(batch);
        assertThat(done.get("status").asString()).isEqualTo("completed");
        assertThat(done.get("result").get("urls")).hasSize(3);
        JsonNode res = http.get("/results/" + batch).json();
        assertThat(res.get("batch_size").asInt()).isEqualTo(3);
        assertThat(res.get("results")).hasSize(3);
        List<Long> seeds = new ArrayList<>();
        res.get("results").forEach(r -> seeds.add(r.get("seed").asLong()));
        assertThat(seeds).containsExactly(100L, 101L, 102L);
    }

    @Test
    void galleryPreviewAndDelete() {
        String id = submit("{\"model\":\"pony\",\"mode\":\"txt2img\",\"prompt\":\"gallery item\",\"width\":512,\"height\":512,\"steps\":4}");
        assertThat(awaitStatus(id).get("status").asString()).isEqualTo("completed");
        JsonNode gallery = http.get("/gallery").json();
        JsonNode item = null;
        for (JsonNode i : gallery.get("items")) if (i.get("task_id").asString().equals(id)) item = i;
        assertThat(item).as(gallery.toString()).isNotNull();
        assertThat(item.get("status").asString()).isEqualTo("completed");
        assertThat(item.get("prompt").asString()).isEqualTo("gallery item");
        assertThat(item.get("model").asString()).isEqualTo("pony");
        assertFetchableWithoutCredentials(item.get("url").asString(), "image/");
        Http.Answer preview = http.get("/preview/" + id);
        assertThat(preview.status()).isEqualTo(200);
        assertThat(preview.header("Content-Type")).startsWith("image/");
        assertThat(preview.body().length).isPositive();
        assertThat(http.get(URI.create(item.get("preview_url").asString()).getPath()).status()).isEqualTo(200);

        // Paging: limit and before.
        submit("{\"model\":\"pony\",\"mode\":\"txt2img\",\"prompt\":\"second\",\"width\":512,\"height\":512,\"steps\":4}");
        JsonNode one = http.get("/gallery?limit=1").json();
        assertThat(one.get("items")).hasSize(1);
        String cursor = one.get("next_before").asString();
        assertThat(http.get("/gallery?limit=1&before=" + cursor).json().get("items").get(0).get("task_id").asString()).isNotEqualTo(cursor);
        assertThat(http.get("/gallery?limit=0").status()).isEqualTo(422);

        Http.Answer deleted = http.delete("/gallery/" + id);
        assertThat(deleted.status()).isEqualTo(200);
        assertThat(deleted.json().get("status").asString()).isEqualTo("success");
        assertThat(http.get("/status/" + id).status()).isEqualTo(404);
        assertThat(http.get("/results/" + id).json().get("code").asString()).isEqualTo("not_found");
        assertThat(http.get("/preview/" + id).status()).isEqualTo(404);
        assertThat(http.delete("/gallery/" + id).status()).isEqualTo(404);
        for (JsonNode i : http.get("/gallery").json().get("items")) assertThat(i.get("task_id").asString()).isNotEqualTo(id);

        // A /v1 job is not a MediaGen task.
        String v1 = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"v1\",\"params\":{\"width\":64,\"height\":64}}");
        assertThat(http.get("/results/" + v1).status()).isEqualTo(404);
    }

    @Test
    void aStillQueuedTaskHasNoPreviewYetAndCancellingByDeleteEndsIt() {
        String id = submit("{\"model\":\"anisora\",\"mode\":\"t2v\",\"prompt\":\"slow\",\"num_frames\":161,\"width\":1024,\"height\":1024}");
        JsonNode s = http.get("/status/" + id).json();
        assertThat(s.get("status").asString()).isIn("queued", "processing");
        assertThat(s.get("result").isNull()).isTrue();
        assertThat(http.get("/preview/" + id).status()).isEqualTo(409);
        assertThat(http.delete("/gallery/" + id).status()).isEqualTo(200);
        assertThat(http.get("/status/" + id).status()).isEqualTo(404);
    }

    private String submit(String json) {
        Http.Answer a = http.post("/generate", json);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        assertThat(a.json().get("task_id").asString()).isEqualTo(a.json().get("job_id").asString());
        return a.json().get("job_id").asString();
    }

    private JsonNode awaitStatus(String id) {
        JsonNode[] last = {null};
        await().atMost(VIDEO).pollInterval(Duration.ofMillis(200)).until(() -> {
            Http.Answer a = http.get("/status/" + id);
            assertThat(a.status()).as(a.toString()).isEqualTo(200);
            last[0] = a.json();
            return List.of("completed", "failed").contains(last[0].get("status").asString());
        });
        return last[0];
    }

    /** An output URL is absolute and signed, and fetches (MediaGenAuthTest fetches one with no credentials at all). */
    private void assertFetchableWithoutCredentials(String url, String mimePrefix) {
        assertThat(url).startsWith("http://127.0.0.1:" + port + "/v1/assets/").contains("sig=", "exp=");
        try {
            var res = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(URI.create(url)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertThat(res.statusCode()).as(url).isEqualTo(200);
            assertThat(res.headers().firstValue("Content-Type").orElse("")).startsWith(mimePrefix);
            assertThat(res.body().length).isPositive();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static byte[] multipart(String boundary, Map<String, String> fields, String fileField, byte[] file) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder sb = new StringBuilder();
        fields.forEach((k, v) -> sb.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(k)
                .append("\"\r\n\r\n").append(v).append("\r\n"));
        sb.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(fileField)
                .append("\"; filename=\"ref.png\"\r\nContent-Type: image/png\r\n\r\n");
        out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
        out.writeBytes(file);
        out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}

package dev.kiln.compat.dotbase;

import static dev.kiln.compat.dotbase.DotbaseExamples.DOC_ID;
import static dev.kiln.compat.dotbase.DotbaseExamples.DOC_IMAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.emulator.replicate.ReplicateEmulator;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * The {@code .base} API in the sandbox with {@code KILN_AUTH=local}: every example of its
 * documentation run unchanged but for the base URL (curl in bash, Python with requests,
 * TypeScript in Node), the answers checked field by field, and the error cases it shows.
 */
class DotbaseSandboxTest extends KilnIntegrationTest {
    static HttpServer images;
    static String imageUrl;

    @Autowired
    Sandbox sandbox;
    @Autowired
    JdbcClient jdbc;

    @BeforeAll
    static void serveAnImage() throws IOException {
        BufferedImage img = new BufferedImage(96, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) for (int x = 0; x < 96; x++) img.setRGB(x, y, (x * 2) << 16 | (y * 3) << 8 | 90);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(img, "png", png);
        byte[] bytes = png.toByteArray();
        images = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        images.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        images.createContext("/photo.png", ex -> {
            try (ex) {
                ex.getResponseHeaders().add("Content-Type", "image/png");
                ex.sendResponseHeaders(200, bytes.length);
                ex.getResponseBody().write(bytes);
            }
        });
        images.start();
        imageUrl = "http://127.0.0.1:" + images.getAddress().getPort() + "/photo.png";
    }

    @AfterAll
    static void stopImages() {
        images.stop(0);
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }

    SeedExamples.Result curl(String example) {
        SeedExamples.Result r = SeedExamples.curl(example, base(), null);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    SeedExamples.Result js(String example) {
        SeedExamples.Result r = SeedExamples.js(example, base(), null);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    static String generationId(String printed) {
        Matcher m = Pattern.compile("Generation ID: (job_[0-9a-z]+)").matcher(printed);
        assertThat(m.find()).as(printed).isTrue();
        return m.group(1);
    }

    /** The documentation's polling example, waiting for this generation. */
    JsonNode poll(String id) {
        SeedExamples.Result r = js("const generationId = '" + id + "';\n" + DotbaseExamples.JS_POLL);
        assertThat(r.out()).as(r.toString()).startsWith("Output: [");
        return http.get("/api/generations/" + id).json();
    }

    // ---------------------------------------------------------------- models

    @Test
    void theModelListIsTheCatalogueInTheSeedsShape() {
        JsonNode all = Json.parse(curl(DotbaseExamples.CURL_MODELS_ALL).out());
        JsonNode flux = entry(all, "flux-schnell", "create");
        assertThat(flux.get("name").asString()).isEqualTo("flux-schnell");
        assertThat(flux.get("displayName").asString()).isEqualTo("FLUX.1 [schnell]");
        assertThat(flux.get("replicateModel").asString()).isEqualTo("black-forest-labs/flux-schnell");
        assertThat(flux.get("runs").asString()).matches("\\d+(\\.\\d)?[kmb]? runs?");
        assertThat(flux.get("description").asString()).isNotBlank();
        JsonNode prompt = flux.get("settings").get(0);
        assertThat(prompt.get("name").asString()).isEqualTo("prompt");
        assertThat(prompt.get("label").asString()).isEqualTo("Prompt");
        assertThat(prompt.get("type").asString()).isEqualTo("textarea");
        assertThat(prompt.get("required").asBoolean()).isTrue();
        JsonNode ratio = setting(flux, "aspect_ratio");
        assertThat(ratio.get("type").asString()).isEqualTo("select");
        assertThat(ratio.get("label").asString()).isEqualTo("Aspect Ratio");
        assertThat(ratio.get("default").asString()).isEqualTo("1:1");
        assertThat(ratio.get("options").toString()).contains("\"16:9\"");
        JsonNode outputs = setting(flux, "num_outputs");
        assertThat(outputs.get("type").asString()).isEqualTo("slider");
        assertThat(outputs.get("min").asInt()).isEqualTo(1);
        assertThat(outputs.get("max").asInt()).isEqualTo(4);
        assertThat(outputs.get("step").asInt()).isEqualTo(1);
        assertThat(setting(flux, "go_fast").get("type").asString()).isEqualTo("switch");
        assertThat(setting(flux, "seed").get("type").asString()).as("a range too wide to slide").isEqualTo("number");

        JsonNode esrgan = entry(all, "real-esrgan", "upscale");
        assertThat(esrgan.get("replicateModel").asString()).isEqualTo("nightmareai/real-esrgan");
        assertThat(esrgan.get("settings").findValuesAsString("name")).containsExactly("scale", "face_enhance");
        assertThat(setting(esrgan, "scale").get("type").asString()).isEqualTo("slider");
        assertThat(setting(esrgan, "scale").get("step").asDouble()).isEqualTo(0.1);
        assertThat(entry(all, "nano-banana-edit", "edit").get("settings").get(0).get("name").asString()).isEqualTo("prompt");
        assertThat(entry(all, "birefnet", "remove_bg").get("settings").findValuesAsString("name")).containsExactly("resolution");
        // A model of two actions is listed once per action; one whose form cannot be filled (a raw workflow) is not listed.
        entry(all, "seedream-v4.5", "create");
        entry(all, "seedream-v4.5", "edit");
        assertThat(all.get("models").findValuesAsString("id")).doesNotContain("comfyui-workflow");

        JsonNode create = Json.parse(curl(DotbaseExamples.CURL_MODELS_CREATE).out());
        assertThat(create.get("models")).isNotEmpty().allSatisfy(m -> assertThat(m.get("action").asString()).isEqualTo("create"));
        assertThat(create.get("models").findValuesAsString("id")).contains("flux-schnell").doesNotContain("real-esrgan", "birefnet");

        Http.Answer bad = http.get("/api/models/list?action=paint");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().get("error").asString()).startsWith("action: must be one of create, edit, upscale, remove_bg");
    }

    static JsonNode entry(JsonNode list, String id, String action) {
        for (JsonNode m : list.get("models")) {
            if (m.get("id").asString().equals(id) && m.get("action").asString().equals(action)) return m;
        }
        throw new AssertionError(id + " / " + action + " is not listed: " + list);
    }

    static JsonNode setting(JsonNode model, String name) {
        for (JsonNode s : model.get("settings")) if (s.get("name").asString().equals(name)) return s;
        throw new AssertionError(name + " is not a setting of " + model);
    }

    // ---------------------------------------------------------------- create, status

    @Test
    void theCreateExamplesRunUnchangedAndTheirGenerationsComplete() {
        String fromJs = generationId(js(DotbaseExamples.JS_CREATE).out());
        JsonNode curlAnswer = Json.parse(curl(DotbaseExamples.CURL_CREATE).out());
        assertThat(curlAnswer.propertyNames()).containsExactly("id", "prediction_id", "status");
        String fromCurl = curlAnswer.get("id").asString();
        assertThat(curlAnswer.get("status").asString()).isIn("processing", "completed");
        SeedExamples.Result py = SeedExamples.python(DotbaseExamples.PYTHON_CREATE, base(), null);
        assertThat(py.exit()).as(py.toString()).isZero();
        String fromPython = generationId(py.out());

        for (String id : List.of(fromJs, fromCurl, fromPython)) {
            JsonNode g = poll(id);
            assertThat(g.get("status").asString()).isEqualTo("completed");
            assertThat(g.get("user_id").asString()).isEqualTo("usr_local");
            assertThat(g.get("action").asString()).isEqualTo("create");
            assertThat(g.get("model_id").asString()).isEqualTo("flux-schnell");
            assertThat(g.get("model_name").asString()).isEqualTo("flux-schnell");
            assertThat(g.get("settings").get("aspect_ratio").asString()).isEqualTo("16:9");
            assertThat(g.get("prediction_id").asString()).as("the Replicate emulator's prediction id").isNotBlank();
            assertThat(g.get("output_urls")).hasSize(1);
            assertThat(g.get("processing_time_ms").asLong()).as("the provider's metrics.predict_time").isPositive();
            assertThat(g.get("error_message").isNull()).isTrue();
            assertThat(java.time.Instant.parse(g.get("completed_at").asString()))
                    .isAfterOrEqualTo(java.time.Instant.parse(g.get("created_at").asString()));
        }
        assertThat(http.get("/api/generations/" + fromJs).json().get("prompt").asString()).isEqualTo("A serene mountain landscape at sunset");
        assertThat(http.get("/api/generations/" + fromCurl).json().get("prompt").asString()).isEqualTo("A beautiful sunset over mountains");

        // The status examples, with the documentation's id replaced by a real one (as a user does).
        JsonNode g = Json.parse(curl(DotbaseExamples.CURL_GET.replace(DOC_ID, fromCurl)).out());
        assertThat(g.get("id").asString()).isEqualTo(fromCurl);
        assertThat(g.get("status").asString()).isEqualTo("completed");
        SeedExamples.Result status = js(DotbaseExamples.JS_GET.replace(DOC_ID, fromJs));
        assertThat(status.out()).startsWith("Status: completed").contains("Output URLs: [");

        // Output links are absolute and work without credentials (a page on another origin shows them).
        String url = g.get("output_urls").get(0).asString();
        assertThat(url).startsWith(base() + "/v1/assets/").contains("sig=");
        Http.Answer file = new Http("").get(url);
        assertThat(file.status()).isEqualTo(200);
        assertThat(file.header("Content-Type")).isEqualTo("image/webp");
    }

    @Test
    void theFourModelExamplesRunAndTheImageGoesToEachModelsOwnInput() {
        Map<String, String> examples = new java.util.LinkedHashMap<>();
        examples.put("flux-schnell", DotbaseExamples.JS_FLUX);
        examples.put("real-esrgan", DotbaseExamples.JS_ESRGAN.replace(DOC_IMAGE, imageUrl));
        examples.put("nano-banana-edit", DotbaseExamples.JS_NANO.replace(DOC_IMAGE, imageUrl));
        examples.put("birefnet", DotbaseExamples.JS_BIREFNET.replace(DOC_IMAGE, imageUrl));
        ReplicateEmulator replicate = sandbox.emulator(ReplicateEmulator.class);
        for (var e : examples.entrySet()) {
            JsonNode printed = Json.parse(js(e.getValue() + DotbaseExamples.JS_PRINT_RESPONSE).out());
            assertThat(printed.get("status").asInt()).as(printed.toString()).isEqualTo(200);
            String id = printed.get("body").get("id").asString();
            JsonNode g = poll(id);
            assertThat(g.get("model_id").asString()).isEqualTo(e.getKey());
            assertThat(g.get("status").asString()).isEqualTo("completed");
            String prediction = g.get("prediction_id").asString();
            JsonNode input = replicate.submissions().stream().filter(s -> s.id().equals(prediction)).findFirst().orElseThrow().input();
            switch (e.getKey()) {
                case "flux-schnell" -> {
                    assertThat(g.get("output_urls")).hasSize(2);
                    assertThat(input.get("output_quality").asInt()).isEqualTo(90);
                    assertThat(g.get("input_image_url").isNull()).isTrue();
                }
                case "real-esrgan" -> {
                    assertThat(input.get("face_enhance").asBoolean()).isTrue();
                    assertThat(input.has("image")).as("real-esrgan's own input: image").isTrue();
                    assertThat(g.get("action").asString()).isEqualTo("upscale");
                    assertThat(g.get("input_image_url").asString()).startsWith(base() + "/v1/assets/");
                }
                case "nano-banana-edit" -> {
                    assertThat(input.has("image_input")).as("nano banana's own input: image_input").isTrue();
                    assertThat(g.get("action").asString()).isEqualTo("edit");
                }
                case "birefnet" -> {
                    assertThat(input.has("image")).isTrue();
                    assertThat(g.get("action").asString()).isEqualTo("remove_bg");
                }
                default -> throw new AssertionError(e.getKey());
            }
        }

        // Run as written, the placeholder URL cannot be fetched: a 400 naming input_image_url, and nothing is created.
        long before = http.get("/api/generations/list?action=upscale").json().get("total").asLong();
        JsonNode refused = Json.parse(js(DotbaseExamples.JS_ESRGAN + DotbaseExamples.JS_PRINT_RESPONSE).out());
        assertThat(refused.get("status").asInt()).as(refused.toString()).isEqualTo(400);
        assertThat(refused.get("body").get("details").get(0).get("field").asString()).isEqualTo("input_image_url");
        assertThat(refused.get("body").get("error").asString()).startsWith("input_image_url: ");
        assertThat(http.get("/api/generations/list?action=upscale").json().get("total").asLong()).isEqualTo(before);
    }

    // ---------------------------------------------------------------- list

    @Test
    void theListExamplesPageInTheDatabaseAndFilter() {
        // One at a time: the sandbox renders full-size images in this JVM, and a pile of them slows
        // Kiln's own fetch of the next input image on a small, loaded machine.
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            made.add(create("{\"action\":\"create\",\"model_id\":\"flux-schnell\",\"prompt\":\"list " + i + "\"}"));
            poll(made.getLast());
        }
        made.add(create("{\"action\":\"upscale\",\"model_id\":\"real-esrgan\",\"input_image_url\":\"" + imageUrl + "\",\"settings\":{\"scale\":2}}"));
        poll(made.getLast());
        // A job made through /v1 is not one of .base's generations.
        String v1 = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"not a generation\",\"params\":{\"width\":64,\"height\":64}}");

        JsonNode first = Json.parse(curl(DotbaseExamples.CURL_LIST).out());
        long total = first.get("total").asLong();
        assertThat(total).isGreaterThanOrEqualTo(4);
        assertThat(first.get("page").asInt()).isEqualTo(1);
        assertThat(first.get("limit").asInt()).isEqualTo(20);
        assertThat(first.get("totalPages").asLong()).isEqualTo((total + 19) / 20);
        assertThat(first.get("generations").size()).isEqualTo((int) Math.min(20, total));
        assertThat(first.get("generations").get(0).get("id").asString()).as("newest first").isEqualTo(made.getLast());
        assertThat(first.get("generations").findValuesAsString("id")).doesNotContain(v1);
        assertThat(http.get("/api/generations/" + v1).status()).isEqualTo(404);

        JsonNode second = Json.parse(curl(DotbaseExamples.CURL_LIST_PAGE_2).out());
        assertThat(second.get("page").asInt()).isEqualTo(2);
        assertThat(second.get("generations").size()).isEqualTo((int) Math.max(0, Math.min(20, total - 20)));

        JsonNode completed = Json.parse(curl(DotbaseExamples.CURL_LIST_COMPLETED).out());
        assertThat(completed.get("generations")).isNotEmpty()
                .allSatisfy(g -> assertThat(g.get("status").asString()).isEqualTo("completed"));
        JsonNode creates = Json.parse(curl(DotbaseExamples.CURL_LIST_CREATE).out());
        assertThat(creates.get("generations")).isNotEmpty().allSatisfy(g -> assertThat(g.get("action").asString()).isEqualTo("create"));
        assertThat(creates.get("total").asLong()).isLessThan(total);
        JsonNode upscales = http.get("/api/generations/list?action=upscale").json();
        assertThat(upscales.get("generations")).allSatisfy(g -> assertThat(g.get("model_id").asString()).isEqualTo("real-esrgan"));
        assertThat(upscales.get("generations").findValuesAsString("id")).contains(made.getLast());

        SeedExamples.Result listed = js(DotbaseExamples.JS_LIST);
        assertThat(listed.out()).contains("Всего: " + creates.get("total").asLong(), "Страниц: " + creates.get("totalPages").asLong(),
                made.get(2) + ": completed");

        // Pages of two walk every generation once, newest first.
        Set<String> seen = new HashSet<>();
        String previous = null;
        long pages = http.get("/api/generations/list?limit=2").json().get("totalPages").asLong();
        assertThat(pages).isEqualTo((total + 1) / 2);
        for (int p = 1; p <= pages; p++) {
            for (JsonNode g : http.get("/api/generations/list?limit=2&page=" + p).json().get("generations")) {
                String id = g.get("id").asString();
                assertThat(seen.add(id)).isTrue();
                if (previous != null) assertThat(id).isLessThan(previous);
                previous = id;
            }
        }
        assertThat(seen).hasSize((int) total);

        for (String q : List.of("page=0", "limit=101", "limit=x", "status=done", "action=paint")) {
            Http.Answer bad = http.get("/api/generations/list?" + q);
            assertThat(bad.status()).as(q).isEqualTo(400);
            assertThat(bad.json().get("error").asString()).as(q).isNotBlank();
        }
    }

    String create(String json) {
        Http.Answer a = http.post("/api/generations/create", json);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a.json().get("id").asString();
    }

    // ---------------------------------------------------------------- delete

    @Test
    void deleteCancelsARunningGenerationAtTheProviderThenDeletesIt() {
        ReplicateEmulator replicate = sandbox.emulator(ReplicateEmulator.class);
        replicate.faults().neverComplete(1);
        String id = create("{\"action\":\"create\",\"model_id\":\"flux-schnell\",\"prompt\":\"never finishes\"}");
        await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/api/generations/" + id).json().path("prediction_id").isString());
        JsonNode running = http.get("/api/generations/" + id).json();
        assertThat(running.get("status").asString()).isEqualTo("processing");
        assertThat(running.get("output_urls").isNull()).isTrue();
        String prediction = running.get("prediction_id").asString();

        assertThat(curl(DotbaseExamples.CURL_DELETE.replace(DOC_ID, id)).out()).isEqualTo("{\"success\":true}");
        assertThat(http.get("/api/generations/" + id).status()).isEqualTo(404);
        await().atMost(Duration.ofSeconds(30)).until(() -> "canceled".equals(replicate.status(prediction)));

        String done = create("{\"action\":\"create\",\"model_id\":\"flux-schnell\",\"prompt\":\"delete me\"}");
        poll(done);
        assertThat(js(DotbaseExamples.JS_DELETE + "\nawait deleteGeneration('" + done + "');").out()).isEqualTo("Generation deleted");
        assertThat(http.get("/api/generations/" + done).status()).isEqualTo(404);

        // The documentation's id, as written: no such generation.
        assertThat(curl(DotbaseExamples.CURL_DELETE).out()).isEqualTo("{\"error\":\"Generation not found\"}");
        assertThat(http.delete("/api/generations/" + DOC_ID).status()).isEqualTo(404);
    }

    // ---------------------------------------------------------------- errors

    @Test
    void errorsAnswerInTheSeedsShapeWithItsFieldNames() {
        assertThat(curl(DotbaseExamples.CURL_GET).out()).isEqualTo("{\"error\":\"Generation not found\"}");
        assertThat(http.get("/api/generations/" + DOC_ID).status()).isEqualTo(404);

        assertBad("{\"model_id\":\"flux-schnell\",\"prompt\":\"x\"}", "action");
        assertBad("{\"action\":\"paint\",\"model_id\":\"flux-schnell\",\"prompt\":\"x\"}", "action");
        assertBad("{\"action\":\"create\",\"model_id\":\"no-such-model\",\"prompt\":\"x\"}", "model_id");
        assertBad("{\"action\":\"upscale\",\"model_id\":\"flux-schnell\",\"input_image_url\":\"" + imageUrl + "\"}", "action");
        assertBad("{\"action\":\"create\",\"model_id\":\"flux-schnell\"}", "prompt");
        assertBad("{\"action\":\"create\",\"model_id\":\"flux-schnell\",\"prompt\":\"x\",\"settings\":{\"num_outputs\":9}}", "settings.num_outputs");
        assertBad("{\"action\":\"create\",\"model_id\":\"flux-schnell\",\"prompt\":\"x\",\"settings\":{\"stength\":1}}", "settings.stength");
        assertBad("{\"action\":\"create\",\"model_id\":\"flux-schnell\",\"prompt\":\"x\",\"input_image_url\":\"" + imageUrl + "\"}", "input_image_url");
        assertBad("{\"action\":\"upscale\",\"model_id\":\"real-esrgan\"}", "input_image_url");
        assertBad("{\"action\":\"upscale\",\"model_id\":\"real-esrgan\",\"input_image_url\":\"ftp://x/y.png\"}", "input_image_url");
        assertBad("{\"action\":\"create\",\"model_id\":\"flux-schnell\",\"prompt\":\"x\",\"user_id\":\"someone\"}", "user_id");
        Http.Answer notJson = http.post("/api/generations/create", "{\"action\": ");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.json().get("error").asString()).contains("not valid JSON");

        // Replicate's webhook body as the documentation shows it, unsigned: refused, and nothing changes.
        Http.Answer hook = http.post("/api/webhook/replicate", DotbaseExamples.WEBHOOK_BODY);
        assertThat(hook.status()).isEqualTo(401);
        assertThat(hook.json().get("error").asString()).isEqualTo("Invalid webhook signature");

        // Local mode has no logins.
        Http.Answer tg = http.post("/api/auth/telegram", "{\"initData\":\"query_id=1&user=%7B%7D&hash=00\"}");
        assertThat(tg.status()).isEqualTo(409);
        assertThat(tg.json().get("error").asString()).isEqualTo("Conflict");
    }

    void assertBad(String json, String field) {
        Http.Answer a = http.post("/api/generations/create", json);
        assertThat(a.status()).as(json + " -> " + a).isEqualTo(400);
        assertThat(a.json().get("details").findValuesAsString("field")).as(a.toString()).contains(field);
        assertThat(a.json().get("error").asString()).as(a.toString()).contains(field + ": ");
    }

    // ---------------------------------------------------------------- token statistics

    @Test
    void theTokenPoolCountersShowInTheAdminApiAndTheSeedsSql() {
        String id = create("{\"action\":\"create\",\"model_id\":\"flux-schnell\",\"prompt\":\"count me\"}");
        poll(id);
        JsonNode pool = http.get("/v1/admin/accounts?provider=replicate").json();
        assertThat(pool.get("items")).isNotEmpty().allSatisfy(a -> assertThat(a.get("provider").asString()).isEqualTo("replicate"));
        // Other test classes of the shared context may have added Replicate accounts (disabled
        // when they end): the one that ran this generation is the busiest active one.
        JsonNode account = null;
        for (JsonNode a : pool.get("items")) {
            if (a.get("active").asBoolean() && (account == null || a.get("requests").asLong() > account.get("requests").asLong())) account = a;
        }
        assertThat(account).as("an active Replicate account").isNotNull();
        String accountId = account.get("id").asString();
        assertThat(account.get("requests").asLong()).isPositive();
        JsonNode totals = pool.get("totals");
        assertThat(totals.get("accounts").asInt()).isEqualTo(pool.get("items").size());
        assertThat(totals.get("requests").asLong()).isEqualTo(sum(pool.get("items"), "requests"));
        assertThat(totals.get("errors").asLong()).isEqualTo(sum(pool.get("items"), "errors"));
        assertThat(http.get("/v1/admin/accounts").json().get("totals").get("accounts").asInt()).isGreaterThan(totals.get("accounts").asInt());

        List<Map<String, Object>> stats = jdbc.sql(DotbaseExamples.SQL_TOKEN_STATS).query().listOfRows();
        assertThat(stats).hasSize(pool.get("items").size());
        Map<String, Object> row = stats.stream().filter(r -> accountId.equals(r.get("id"))).findFirst().orElseThrow();
        assertThat(((Number) row.get("request_count")).longValue()).isEqualTo(account.get("requests").asLong());
        assertThat(row.get("is_active")).isEqualTo(true);
        Map<String, Object> all = jdbc.sql(DotbaseExamples.SQL_TOKEN_TOTALS).query().singleRow();
        assertThat(((Number) all.get("total_tokens")).intValue()).isEqualTo(totals.get("accounts").asInt());
        assertThat(((Number) all.get("active_tokens")).intValue()).isEqualTo(totals.get("active").asInt());
        assertThat(((Number) all.get("total_requests")).longValue()).isEqualTo(totals.get("requests").asLong());
    }

    static long sum(JsonNode items, String field) {
        long n = 0;
        for (JsonNode i : items) n += i.get(field).asLong();
        return n;
    }
}

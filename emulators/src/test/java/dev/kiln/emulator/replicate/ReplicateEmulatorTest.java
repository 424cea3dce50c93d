package dev.kiln.emulator.replicate;

import dev.kiln.emulator.replicate.ReplicateEmulator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.testing.Http;
import dev.kiln.emulator.testing.WebhookCatcher;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The Replicate emulator's wire contract, checked over raw HTTP (no Kiln adapter in between). */
class ReplicateEmulatorTest {

    static Http.Answer send(Http http, String method, String path, String token, String body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(http.uri(path)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", token);
        if (body != null) b.header("Content-Type", "application/json");
        headers.forEach(b::header);
        return http.send(b.build());
    }

    @Test
    void replicateAnswersLikeItsOpenApiSpec() {
        try (ReplicateEmulator e = ReplicateEmulator.start(ReplicateEmulator.Config.defaults().withApiToken("tok")
                .withLatency(Duration.ofMillis(300)).withVersions(Map.of("a".repeat(64), "acme/model")))) {
            Http http = new Http(e.baseUrl());
            String auth = "Bearer tok";
            Http.Answer unauth = send(http, "GET", "/v1/account", null, null, Map.of());
            assertThat(unauth.status()).isEqualTo(401);
            assertThat(unauth.json().path("detail").asString()).isNotBlank();
            assertThat(send(http, "GET", "/v1/account", "Token tok", null, Map.of()).status()).as("the older Token scheme").isEqualTo(200);

            Http.Answer created = send(http, "POST", "/v1/models/acme/any/predictions", auth, "{\"input\":{\"prompt\":\"p\"}}", Map.of());
            assertThat(created.status()).isEqualTo(201);
            JsonNode p = created.json();
            assertThat(p.path("status").asString()).isEqualTo("starting");
            assertThat(p.path("version").asString()).isEqualTo("hidden");
            assertThat(p.path("urls").path("get").asString()).isEqualTo(e.apiUrl() + "/predictions/" + p.path("id").asString());
            assertThat(created.header("Location")).isEqualTo(p.path("urls").path("get").asString());
            for (String field : new String[] {"id", "model", "version", "input", "output", "data_removed", "error", "status", "created_at", "urls"}) {
                assertThat(p.has(field)).as(field).isTrue();
            }

            assertThat(send(http, "POST", "/v1/predictions", auth, "{\"version\":\"" + "b".repeat(64) + "\",\"input\":{}}", Map.of()).status())
                    .as("unknown version").isEqualTo(422);
            assertThat(send(http, "POST", "/v1/predictions", auth, "{\"version\":\"" + "a".repeat(64) + "\",\"input\":{},\"extra\":1}", Map.of())
                    .status()).as("additionalProperties: false").isEqualTo(422);
            assertThat(send(http, "POST", "/v1/models/acme/any/predictions", auth, "{\"input\":{}}", Map.of("Prefer", "wait=61")).status())
                    .isEqualTo(422);
            Http.Answer waited = send(http, "POST", "/v1/predictions", auth, "{\"version\":\"acme/model:" + "a".repeat(64) + "\",\"input\":{\"prompt\":\"w\"}}",
                    Map.of("Prefer", "wait=5"));
            assertThat(waited.status()).isEqualTo(201);
            assertThat(waited.json().path("status").asString()).isEqualTo("succeeded");
            assertThat(waited.json().path("model").asString()).isEqualTo("acme/model");
            assertThat(waited.json().path("output").isString()).as("no num_outputs: a single URL").isTrue();
            Http.Answer shortWait = send(http, "POST", "/v1/models/acme/any/predictions", auth, "{\"input\":{\"num_outputs\":2}}", Map.of("Prefer", "wait=1"));
            assertThat(send(http, "GET", "/v1/predictions/" + shortWait.json().path("id").asString(), auth, null, Map.of()).json()
                    .path("output").isArray()).isTrue();

            // Cancel answers the prediction; a finished one keeps its state.
            String id = p.path("id").asString();
            await().atMost(Duration.ofSeconds(5)).until(() -> "succeeded".equals(e.status(id)));
            Http.Answer c = send(http, "POST", "/v1/predictions/" + id + "/cancel", auth, null, Map.of());
            assertThat(c.status()).isEqualTo(200);
            assertThat(c.json().path("status").asString()).isEqualTo("succeeded");
            assertThat(send(http, "GET", "/v1/predictions/nope", auth, null, Map.of()).status()).isEqualTo(404);
            assertThat(send(http, "GET", "/v1/webhooks/default/secret", auth, null, Map.of()).json().path("key").asString())
                    .isEqualTo(e.config().webhookSecret());
        }
    }

    @Test
    void replicateListsNewestFirstInPagesOf100WithNextUrls() {
        try (ReplicateEmulator e = ReplicateEmulator.start(ReplicateEmulator.Config.defaults())) {
            Http http = new Http(e.baseUrl());
            Instant start = Instant.now();
            for (int i = 0; i < 150; i++) send(http, "POST", "/v1/models/a/b/predictions", null, "{\"input\":{\"prompt\":\"n" + i + "\",\"width\":16,\"height\":16}}", Map.of());
            JsonNode page = send(http, "GET", "/v1/predictions?created_after=" + URLEncoder.encode(start.minusSeconds(1).toString(), StandardCharsets.UTF_8),
                    null, null, Map.of()).json();
            assertThat(page.path("results")).hasSize(100);
            assertThat(page.path("results").get(0).path("input").path("prompt").asString()).isEqualTo("n149");
            String next = page.path("next").asString();
            assertThat(next).startsWith(e.apiUrl() + "/predictions?cursor=");
            JsonNode second = send(http, "GET", next.substring(e.baseUrl().length()), null, null, Map.of()).json();
            assertThat(second.path("results")).hasSize(50);
            assertThat(second.path("next").isNull()).isTrue();
            Set<String> ids = new HashSet<>();
            page.path("results").forEach(r -> ids.add(r.path("id").asString()));
            second.path("results").forEach(r -> ids.add(r.path("id").asString()));
            assertThat(ids).hasSize(150);
        }
    }

    @Test
    void replicateRemovesDataAfterItsTtlAndSignsWebhooksTheStandardWay() throws Exception {
        try (ReplicateEmulator e = ReplicateEmulator.start(ReplicateEmulator.Config.defaults().withOutputTtl(Duration.ofMillis(300)));
             WebhookCatcher hooks = new WebhookCatcher()) {
            Http http = new Http(e.baseUrl());
            String id = send(http, "POST", "/v1/models/a/b/predictions", null,
                    "{\"input\":{\"prompt\":\"x\",\"width\":16,\"height\":16},\"webhook\":\"" + hooks.url() + "\",\"webhook_events_filter\":[\"completed\"]}",
                    Map.of()).json().path("id").asString();
            var d = hooks.next(Duration.ofSeconds(5));
            String ts = d.header("webhook-timestamp");
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(e.config().webhookSecret().substring(6)), "HmacSHA256"));
            String expected = "v1," + Base64.getEncoder().encodeToString(mac.doFinal((d.header("webhook-id") + "." + ts + "." + new String(d.body(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));
            assertThat(d.header("webhook-signature")).isEqualTo(expected);
            String file = send(http, "GET", "/v1/predictions/" + id, null, null, Map.of()).json().path("output").asString();
            Thread.sleep(500);
            JsonNode gone = send(http, "GET", "/v1/predictions/" + id, null, null, Map.of()).json();
            assertThat(gone.path("data_removed").asBoolean()).isTrue();
            assertThat(gone.path("output").isNull()).isTrue();
            assertThat(http.get(file.substring(e.baseUrl().length())).status()).isEqualTo(404);
        }
    }

    private static byte[] png(int w, int h) {
        return dev.kiln.emulator.render.SandboxRenderer.render("input", 1, w, h, "png");
    }

    private static String dataUri(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }

    @Test
    void theCataloguesModelsRefuseWhatTheirSchemasRefuseWith422() {
        try (ReplicateEmulator e = ReplicateEmulator.start(ReplicateEmulator.Config.defaults())) {
            Http http = new Http(e.baseUrl());
            String esrgan = "nightmareai/real-esrgan:f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa";
            String[][] refused = {
                    {"/v1/models/black-forest-labs/flux-schnell/predictions", "{\"input\":{\"prompt\":\"p\",\"width\":512}}",
                            "- input: Additional property width is not allowed"},
                    {"/v1/models/black-forest-labs/flux-schnell/predictions", "{\"input\":{\"prompt\":\"p\",\"num_outputs\":5}}",
                            "- input.num_outputs: Must be less than or equal to 4"},
                    {"/v1/models/black-forest-labs/flux-schnell/predictions", "{\"input\":{\"prompt\":\"p\",\"megapixels\":\"0.5\"}}",
                            "input.megapixels must be one of the following: \"1\", \"0.25\""},
                    {"/v1/models/black-forest-labs/flux-schnell/predictions", "{\"input\":{\"aspect_ratio\":\"1:1\"}}",
                            "- input: prompt is required"},
                    {"/v1/models/google/nano-banana/predictions", "{\"input\":{\"prompt\":\"p\",\"output_format\":\"webp\"}}",
                            "input.output_format must be one of the following"},
                    {"/v1/models/google/nano-banana/predictions", "{\"input\":{\"prompt\":\"p\",\"image_input\":[\"file.png\"]}}",
                            "- input.image_input.0: Does not match format 'uri'"},
                    {"/v1/predictions", "{\"version\":\"" + esrgan + "\",\"input\":{\"image\":\"" + dataUri(png(8, 8)) + "\",\"scale\":11}}",
                            "- input.scale: Must be less than or equal to 10"},
                    {"/v1/predictions", "{\"version\":\"" + esrgan + "\",\"input\":{\"image\":\"" + dataUri(png(8, 8)) + "\",\"face_enhance\":\"yes\"}}",
                            "- input.face_enhance: Invalid type. Expected: boolean, given: string"},
                    {"/v1/predictions", "{\"version\":\"f74986db0355b58403ed20963af156525e2891ea3c2d499bfbfb2a28cd87c5d7\",\"input\":{\"resolution\":\"\"}}",
                            "- input: image is required"}};
            for (String[] c : refused) {
                Http.Answer a = send(http, "POST", c[0], null, c[1], Map.of());
                assertThat(a.status()).as(c[1]).isEqualTo(422);
                assertThat(a.json().path("title").asString()).isEqualTo("Input validation failed");
                assertThat(a.json().path("detail").asString()).as(c[1]).contains(c[2]);
            }
            assertThat(e.submissions()).isEmpty();
            // A model the emulator has no schema for takes anything, as before.
            assertThat(send(http, "POST", "/v1/models/acme/any/predictions", null, "{\"input\":{\"whatever\":1}}", Map.of()).status())
                    .isEqualTo(201);
        }
    }

    @Test
    void birefnetRunsItsResolutionAsItsPredictPyDoes() {
        try (ReplicateEmulator e = ReplicateEmulator.start(ReplicateEmulator.Config.defaults())) {
            Http http = new Http(e.baseUrl());
            String version = "men1scus/birefnet:f74986db0355b58403ed20963af156525e2891ea3c2d499bfbfb2a28cd87c5d7";
            String image = dataUri(png(40, 30));
            for (String[] c : new String[][] {{"abc", "invalid literal for int()"}, {"16x16", "dsize.empty()"}, {"1024x1024x3", "dsize.empty()"}}) {
                Http.Answer a = send(http, "POST", "/v1/predictions", null,
                        "{\"version\":\"" + version + "\",\"input\":{\"image\":\"" + image + "\",\"resolution\":\"" + c[0] + "\"}}",
                        Map.of("Prefer", "wait=5"));
                assertThat(a.status()).as("the schema lets any text through").isEqualTo(201);
                assertThat(a.json().path("status").asString()).isEqualTo("failed");
                assertThat(a.json().path("error").asString()).contains(c[1]);
            }
            Http.Answer ok = send(http, "POST", "/v1/predictions", null,
                    "{\"version\":\"" + version + "\",\"input\":{\"image\":\"" + image + "\",\"resolution\":\"1000x700\"}}",
                    Map.of("Prefer", "wait=5"));
            assertThat(ok.json().path("status").asString()).isEqualTo("succeeded");
        }
    }

    @Test
    void dataUrisAreNotKeptInThePredictionsInput() {
        try (ReplicateEmulator e = ReplicateEmulator.start(ReplicateEmulator.Config.defaults())) {
            Http http = new Http(e.baseUrl());
            String image = dataUri(png(8, 8));
            JsonNode p = send(http, "POST", "/v1/models/google/nano-banana/predictions", null,
                    "{\"input\":{\"prompt\":\"p\",\"image_input\":[\"" + image + "\",\"https://example.org/a.png\"]}}", Map.of()).json();
            assertThat(p.path("input").path("prompt").asString()).isEqualTo("p");
            assertThat(p.path("input").path("image_input").toString()).doesNotContain("data:").contains("https://example.org/a.png");
            JsonNode listed = send(http, "GET", "/v1/predictions", null, null, Map.of()).json().path("results").get(0);
            assertThat(listed.path("input").toString()).doesNotContain("data:");
            assertThat(e.submissions().getFirst().input().toString()).as("what was sent").contains("data:image/png");
        }
    }

    @Test
    void theFilesApiStoresAFileWhoseUrlWorksAsAnInput() {
        try (ReplicateEmulator e = ReplicateEmulator.start(ReplicateEmulator.Config.defaults().withApiToken("tok"))) {
            Http http = new Http(e.baseUrl());
            byte[] img = png(48, 24);
            String boundary = "b0und";
            byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"content\"; filename=\"in.png\"\r\n"
                    + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8);
            byte[] tail = ("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"job\":\"j1\"}\r\n--"
                    + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
            byte[] body = new byte[head.length + img.length + tail.length];
            System.arraycopy(head, 0, body, 0, head.length);
            System.arraycopy(img, 0, body, head.length, img.length);
            System.arraycopy(tail, 0, body, head.length + img.length, tail.length);
            HttpRequest.Builder upload = HttpRequest.newBuilder(http.uri("/v1/files")).header("Authorization", "Bearer tok")
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(HttpRequest.BodyPublishers.ofByteArray(body));
            Http.Answer created = http.send(upload.build());
            assertThat(created.status()).as(created.toString()).isEqualTo(201);
            JsonNode f = created.json();
            assertThat(f.path("content_type").asString()).isEqualTo("image/png");
            assertThat(f.path("size").asInt()).isEqualTo(img.length);
            assertThat(f.path("checksums").path("sha256").asString()).hasSize(64);
            assertThat(f.path("metadata").path("job").asString()).isEqualTo("j1");
            assertThat(Instant.parse(f.path("expires_at").asString())).isAfter(Instant.parse(f.path("created_at").asString()));
            String url = f.path("urls").path("get").asString();
            assertThat(url).isEqualTo(e.apiUrl() + "/files/" + f.path("id").asString());
            assertThat(send(http, "GET", "/v1/files/" + f.path("id").asString(), "Bearer tok", null, Map.of()).json().path("id").asString())
                    .isEqualTo(f.path("id").asString());
            assertThat(http.send(HttpRequest.newBuilder(http.uri("/v1/files")).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary).build()).status()).as("needs the token").isEqualTo(401);

            JsonNode p = send(http, "POST", "/v1/predictions", "Bearer tok", "{\"version\":\"nightmareai/real-esrgan:"
                    + "f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa\",\"input\":{\"image\":\"" + url + "\",\"scale\":2}}",
                    Map.of("Prefer", "wait=5")).json();
            assertThat(p.path("status").asString()).as(p.toString()).isEqualTo("succeeded");
            assertThat(p.path("input").path("image").asString()).as("a file URL is kept in the input").isEqualTo(url);

            assertThat(send(http, "DELETE", "/v1/files/" + f.path("id").asString(), "Bearer tok", null, Map.of()).status()).isEqualTo(204);
            JsonNode gone = send(http, "POST", "/v1/predictions", "Bearer tok", "{\"version\":\"nightmareai/real-esrgan:"
                    + "f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa\",\"input\":{\"image\":\"" + url + "\"}}",
                    Map.of("Prefer", "wait=5")).json();
            assertThat(gone.path("status").asString()).isEqualTo("failed");
            assertThat(gone.path("error").asString()).contains("Failed to download input file image");
        }
    }
}

package dev.kiln.emulator.fal;

import dev.kiln.emulator.fal.FalEmulator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.testing.Http;
import dev.kiln.emulator.testing.WebhookCatcher;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The fal emulator's wire contract, checked over raw HTTP (no Kiln adapter in between). */
class FalEmulatorTest {

    static Http.Answer send(Http http, String method, String path, String token, String body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(http.uri(path)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", token);
        if (body != null) b.header("Content-Type", "application/json");
        headers.forEach(b::header);
        return http.send(b.build());
    }

    @Test
    void falQueuesRunsAndCompletesLikeItsQueueApi() throws Exception {
        try (FalEmulator e = FalEmulator.start(FalEmulator.Config.defaults().withApiKey("k").withLatency(Duration.ofMillis(400)));
             WebhookCatcher hooks = new WebhookCatcher()) {
            Http http = new Http(e.baseUrl());
            assertThat(send(http, "POST", "/fal-ai/flux/dev", null, "{\"prompt\":\"p\"}", Map.of()).status()).isEqualTo(401);
            JsonNode q = send(http, "POST", "/fal-ai/flux/dev?fal_webhook=" + URLEncoder.encode(hooks.url(), StandardCharsets.UTF_8), "Key k",
                    "{\"prompt\":\"p\",\"image_size\":\"square\",\"num_images\":2}", Map.of()).json();
            assertThat(q.path("status").asString()).isEqualTo("IN_QUEUE");
            assertThat(q.path("queue_position").asInt()).isZero();
            String id = q.path("request_id").asString();
            assertThat(q.path("status_url").asString()).isEqualTo(e.baseUrl() + "/fal-ai/flux/requests/" + id + "/status");
            assertThat(q.path("gateway_request_id").asString()).isNotBlank();
            String base = "/fal-ai/flux/requests/" + id;
            assertThat(send(http, "GET", base, "Key k", null, Map.of()).status()).as("result while running").isEqualTo(400);
            assertThat(send(http, "GET", "/fal-ai/other/requests/" + id + "/status", "Key k", null, Map.of()).status()).isEqualTo(404);
            await().atMost(Duration.ofSeconds(5)).until(() -> "IN_PROGRESS".equals(send(http, "GET", base + "/status?logs=1", "Key k", null, Map.of())
                    .json().path("status").asString()));
            await().atMost(Duration.ofSeconds(5)).until(() -> "COMPLETED".equals(send(http, "GET", base + "/status?logs=1", "Key k", null, Map.of())
                    .json().path("status").asString()));
            JsonNode done = send(http, "GET", base + "/status?logs=1", "Key k", null, Map.of()).json();
            assertThat(done.path("logs")).isNotEmpty();
            assertThat(done.path("metrics").path("inference_time").isNumber()).isTrue();
            JsonNode result = send(http, "GET", base, "Key k", null, Map.of()).json();
            assertThat(result.path("images")).hasSize(2).allSatisfy(i -> {
                assertThat(i.path("width").asInt()).isEqualTo(512);
                assertThat(i.path("content_type").asString()).isEqualTo("image/jpeg");
            });
            Http.Answer cancelDone = send(http, "PUT", base + "/cancel", "Key k", null, Map.of());
            assertThat(cancelDone.status()).isEqualTo(400);
            assertThat(cancelDone.json().path("status").asString()).isEqualTo("ALREADY_COMPLETED");
            assertThat(send(http, "PUT", "/fal-ai/flux/requests/nope/cancel", "Key k", null, Map.of()).json().path("status").asString()).isEqualTo("NOT_FOUND");
            JsonNode invalid = send(http, "POST", "/fal-ai/flux/dev", "Key k", "{\"num_images\":9,\"prompt\":\"p\"}", Map.of()).json();
            assertThat(invalid.path("detail").get(0).path("loc").get(1).asString()).isEqualTo("num_images");

            // The webhook: Ed25519 over request_id, user_id, timestamp and the body's SHA-256, under the JWKS key.
            var d = hooks.next(Duration.ofSeconds(5));
            JsonNode key = send(http, "GET", "/.well-known/jwks.json", null, null, Map.of()).json().path("keys").get(0);
            assertThat(key.path("kty").asString()).isEqualTo("OKP");
            assertThat(key.path("crv").asString()).isEqualTo("Ed25519");
            byte[] raw = Base64.getUrlDecoder().decode(key.path("x").asString());
            byte[] der = HexFormat.of().parseHex("302a300506032b6570032100" + HexFormat.of().formatHex(raw));
            Signature v = Signature.getInstance("Ed25519");
            v.initVerify(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der)));
            v.update(String.join("\n", d.header("X-Fal-Webhook-Request-Id"), d.header("X-Fal-Webhook-User-Id"), d.header("X-Fal-Webhook-Timestamp"),
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(d.body()))).getBytes(StandardCharsets.UTF_8));
            assertThat(v.verify(HexFormat.of().parseHex(d.header("X-Fal-Webhook-Signature")))).isTrue();
            JsonNode body = tools.jackson.databind.json.JsonMapper.builder().build().readTree(d.body());
            assertThat(body.path("request_id").asString()).isEqualTo(id);
            assertThat(body.path("status").asString()).isEqualTo("OK");
            assertThat(body.path("payload").path("images")).hasSize(2);
            assertThat(URI.create(body.path("payload").path("images").get(0).path("url").asString()).getPath()).startsWith("/files/");
        }
    }

    @Test
    void theMinimalModeAnswersASubmitWithTheRequestIdAlone() {
        try (FalEmulator e = FalEmulator.start(FalEmulator.Config.defaults().withApiKey("k").withMinimalSubmitAnswers(true))) {
            Http http = new Http(e.baseUrl());
            JsonNode q = send(http, "POST", "/fal-ai/flux/dev?fal_webhook=" + URLEncoder.encode("http://127.0.0.1:9/hook", StandardCharsets.UTF_8),
                    "Key k", "{\"prompt\":\"p\"}", Map.of()).json();
            assertThat(q.propertyNames()).containsExactlyInAnyOrder("request_id", "gateway_request_id");
            // The request is there under the URLs fal's clients build from the id.
            String id = q.path("request_id").asString();
            await().atMost(Duration.ofSeconds(5)).until(() -> "COMPLETED".equals(
                    send(http, "GET", "/fal-ai/flux/requests/" + id + "/status", "Key k", null, Map.of()).json().path("status").asString()));
        }
    }

    @Test
    void fluxSchnellRefusesWhatItsSchemaDoesNotHave() {
        try (FalEmulator e = FalEmulator.start(FalEmulator.Config.defaults().withApiKey("k"))) {
            Http http = new Http(e.baseUrl());
            Http.Answer extra = send(http, "POST", "/fal-ai/flux/schnell", "Key k", "{\"prompt\":\"p\",\"megapixels\":\"1\"}", Map.of());
            assertThat(extra.status()).isEqualTo(422);
            assertThat(extra.json().path("detail").get(0).path("loc").get(1).asString()).isEqualTo("megapixels");
            Http.Answer webp = send(http, "POST", "/fal-ai/flux/schnell", "Key k", "{\"prompt\":\"p\",\"output_format\":\"webp\"}", Map.of());
            assertThat(webp.status()).isEqualTo(422);
            Http.Answer jpg = send(http, "POST", "/fal-ai/flux/schnell", "Key k", "{\"prompt\":\"p\",\"output_format\":\"jpg\"}", Map.of());
            assertThat(jpg.status()).isEqualTo(422);
            Http.Answer steps = send(http, "POST", "/fal-ai/flux/schnell", "Key k", "{\"prompt\":\"p\",\"num_inference_steps\":13}", Map.of());
            assertThat(steps.status()).isEqualTo(422);
            assertThat(send(http, "POST", "/fal-ai/flux/schnell", "Key k",
                    "{\"prompt\":\"p\",\"output_format\":\"png\",\"num_inference_steps\":4,\"enable_safety_checker\":true}", Map.of()).status())
                    .isEqualTo(200);
            assertThat(e.submissions()).hasSize(1);
        }
    }
}

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
}

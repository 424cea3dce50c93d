package dev.kiln.compat.mediagen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * MediaGen with {@code KILN_AUTH=on}: the guide's curl checks with one added header
 * ({@code X-API-Key}, here from a {@code .curlrc} so the commands stay as written), API keys as
 * {@code X-API-Key} and {@code Bearer}, the {@code gg_session} cookie of {@code /auth/session}
 * and {@code /admin/session}, other users' tasks, and signed output URLs fetched with no
 * credentials at all.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.auth=on",
        "kiln.admin-key=" + MediaGenAuthTest.ADMIN_KEY,
        "kiln.cors-origins=" + MediaGenAuthTest.APP_ORIGIN,
        "kiln.start-credits=100",
        "kiln.sandbox-latency=300ms",
        "kiln.allow-private-urls=true",
        "kiln.catalog-dir=src/test/resources/catalog-test",
        "kiln.sandbox-comfy-models=checkpoints/test.safetensors",
        "logging.level.dev.kiln=INFO"})
class MediaGenAuthTest {
    static final String ADMIN_KEY = "mediagen-admin-key-0123456789";
    static final String APP_ORIGIN = "https://mediagen.example.com";
    private static final String PONY = "{\"model\":\"pony\",\"type\":\"image\",\"mode\":\"txt2img\",\"prompt\":\"auth\",\"width\":512,"
            + "\"height\":512,\"seed\":-1,\"steps\":4}";
    static final Path DATA;

    static {
        try {
            DATA = Files.createTempDirectory("kiln-mediagen-on");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry r) {
        r.add("kiln.data-dir", DATA::toString);
    }

    @LocalServerPort
    int port;
    Http anon;
    Http admin;

    @BeforeEach
    void clients() {
        anon = new Http("http://127.0.0.1:" + port);
        admin = anon.with("x-admin-key", ADMIN_KEY);
    }

    record User(String username, String password, String apiKey) {}

    private User newUser() {
        String name = "mg" + UUID.randomUUID().toString().substring(0, 8);
        String password = "pw-" + UUID.randomUUID();
        Http.Answer made = admin.post("/v1/admin/users", Json.write(Json.object().put("username", name).put("password", password).put("credits", 100.0)));
        assertThat(made.status()).as(made.toString()).isEqualTo(201);
        String token = anon.post("/v1/auth/login", Json.write(Json.object().put("username", name).put("password", password)))
                .json().get("session_token").asString();
        Http.Answer key = anon.with("Authorization", "Bearer " + token).post("/v1/api-keys", "{\"name\":\"mediagen\"}");
        assertThat(key.status()).as(key.toString()).isEqualTo(201);
        return new User(name, password, key.json().get("key").asString());
    }

    @Test
    void theGuidesCurlChecksRunWithOneAddedHeaderAndKeysWorkAsXApiKeyOrBearer() throws Exception {
        User u = newUser();
        Path curlHome = Files.createTempDirectory("mediagen-curlrc");
        Files.writeString(curlHome.resolve(".curlrc"), "header = \"X-API-Key: " + u.apiKey() + "\"\n");
        List<JsonNode> out = SeedScripts.curl("curl-required-params.sh", "http://127.0.0.1:" + port, Map.of("CURL_HOME", curlHome.toString()));
        assertThat(out.get(0).get("code").asString()).isEqualTo("missing_required_fields");
        String video = out.get(1).get("job_id").asString();
        List<JsonNode> missing = SeedScripts.curl("curl-reference-image.sh", "http://127.0.0.1:" + port, Map.of("CURL_HOME", curlHome.toString()));
        assertThat(missing.getFirst().get("code").asString()).isEqualTo("missing_reference_image");
        Http key = anon.with("X-API-Key", u.apiKey());
        assertThat(key.get("/status/" + video).json().get("model").asString()).isEqualTo("anisora");
        assertThat(key.delete("/gallery/" + video).status()).isEqualTo(200);

        // Without credentials: 401 in MediaGen's error shape.
        Http.Answer none = anon.post("/generate", PONY);
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.json().get("status").asString()).isEqualTo("error");
        assertThat(none.json().get("code").asString()).isEqualTo("unauthorized");

        Http bearer = anon.with("Authorization", "Bearer " + u.apiKey());
        String id = submit(bearer, PONY);
        JsonNode done = awaitStatus(key, id);
        assertThat(done.get("status").asString()).isEqualTo("completed");
        // The output URL works with no credentials at all (an <img> on another origin), the bare asset path does not.
        String url = done.get("result").get("url").asString();
        assertThat(fetch(url)).isEqualTo(200);
        assertThat(fetch(url.substring(0, url.indexOf('?')))).isEqualTo(401);

        // Another user sees none of it.
        Http other = anon.with("X-API-Key", newUser().apiKey());
        assertThat(other.get("/status/" + id).status()).isEqualTo(404);
        assertThat(other.get("/results/" + id).status()).isEqualTo(404);
        assertThat(other.delete("/gallery/" + id).status()).isEqualTo(404);
        for (JsonNode i : other.get("/gallery").json().get("items")) assertThat(i.get("task_id").asString()).isNotEqualTo(id);
        assertThat(bearer.get("/gallery").json().get("items").get(0).get("task_id").asString()).isEqualTo(id);
    }

    @Test
    void authSessionSetsGgSessionForADayAndCookieWritesCarryTheCsrfToken() {
        User u = newUser();
        Http.Answer opened = anon.with("X-API-Key", u.apiKey()).post("/auth/session", null);
        assertThat(opened.status()).as(opened.toString()).isEqualTo(200);
        String setCookie = opened.header("Set-Cookie");
        assertThat(setCookie).startsWith("gg_session=").contains("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=86400");
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        String csrf = opened.json().get("csrf_token").asString();
        assertThat(opened.json().get("user").get("username").asString()).isEqualTo(u.username());

        Http session = anon.with("Cookie", cookie);
        JsonNode check = session.get("/auth/session").json();
        assertThat(check.get("authenticated").asBoolean()).isTrue();
        assertThat(check.get("via").asString()).isEqualTo("session_cookie");
        assertThat(check.get("csrf_token").asString()).isEqualTo(csrf);
        Http.Answer noSession = anon.get("/auth/session");
        assertThat(noSession.status()).isEqualTo(401);
        assertThat(noSession.json().get("authenticated").asBoolean()).isFalse();
        assertThat(noSession.json().get("status").asString()).isEqualTo("error");

        // The cookie alone cannot write (another site's page could send it); with X-CSRF-Token it can.
        assertThat(session.post("/generate", PONY).status()).isEqualTo(403);
        String id = submit(session.with("X-CSRF-Token", csrf), PONY);
        assertThat(awaitStatus(session, id).get("status").asString()).isEqualTo("completed");
        assertThat(session.get("/results/" + id).status()).isEqualTo(200);
        assertThat(session.get("/preview/" + id).status()).isEqualTo(200);
        assertThat(session.get("/gallery").json().get("items").get(0).get("task_id").asString()).isEqualTo(id);
        assertThat(session.with("X-CSRF-Token", csrf).delete("/gallery/" + id).status()).isEqualTo(200);

        // A username and password open one too; a wrong password does not.
        Http.Answer byPassword = anon.post("/auth/session", Json.write(Json.object().put("username", u.username()).put("password", u.password())));
        assertThat(byPassword.status()).isEqualTo(200);
        assertThat(byPassword.header("Set-Cookie")).startsWith("gg_session=");
        Http.Answer wrong = anon.post("/auth/session", Json.write(Json.object().put("username", u.username()).put("password", "nope-nope")));
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.json().get("code").asString()).isEqualTo("unauthorized");
        assertThat(anon.post("/auth/session", null).status()).isEqualTo(401);
    }

    @Test
    void adminSessionOpensWithXAdminKeyOnlyAndEnds() {
        Http.Answer noKey = anon.post("/admin/session", null);
        assertThat(noKey.status()).isEqualTo(401);
        assertThat(noKey.json().get("error").asString()).contains("x-admin-key");
        assertThat(anon.with("x-admin-key", "wrong").post("/admin/session", null).status()).isEqualTo(401);
        // A user's API key is not the admin's.
        assertThat(anon.with("X-API-Key", newUser().apiKey()).post("/admin/session", null).status()).isEqualTo(401);

        Http.Answer opened = admin.post("/admin/session", null);
        assertThat(opened.status()).as(opened.toString()).isEqualTo(200);
        assertThat(opened.json().get("role").asString()).isEqualTo("admin");
        String setCookie = opened.header("Set-Cookie");
        assertThat(setCookie).startsWith("gg_session=").contains("HttpOnly", "Max-Age=86400");
        Http session = anon.with("Cookie", setCookie.substring(0, setCookie.indexOf(';')));
        assertThat(session.get("/admin/session").json().get("role").asString()).isEqualTo("admin");

        Http.Answer userSession = anon.with("X-API-Key", newUser().apiKey()).post("/auth/session", null);
        String userCookie = userSession.header("Set-Cookie");
        assertThat(anon.with("Cookie", userCookie.substring(0, userCookie.indexOf(';'))).get("/admin/session").status()).isEqualTo(401);

        assertThat(session.delete("/admin/session").status()).isEqualTo(403);
        Http.Answer closed = session.with("X-CSRF-Token", opened.json().get("csrf_token").asString()).delete("/admin/session");
        assertThat(closed.status()).isEqualTo(200);
        assertThat(closed.header("Set-Cookie")).startsWith("gg_session=;").contains("Max-Age=0");
        assertThat(session.get("/admin/session").status()).isEqualTo(401);
    }

    @Test
    void anAdminPageOnTheAllowedOriginMayLogInWithXAdminKey() throws Exception {
        HttpResponse<String> pre = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/session"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", APP_ORIGIN)
                .header("Access-Control-Request-Method", "POST").header("Access-Control-Request-Headers", "x-admin-key").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(pre.statusCode()).isEqualTo(200);
        assertThat(pre.headers().firstValue("Access-Control-Allow-Origin")).contains(APP_ORIGIN);
        assertThat(pre.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase()).contains("x-admin-key");
        assertThat(pre.headers().firstValue("Access-Control-Allow-Credentials")).contains("true");
    }

    private static String submit(Http as, String json) {
        Http.Answer a = as.post("/generate", json);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a.json().get("job_id").asString();
    }

    private static JsonNode awaitStatus(Http as, String id) {
        JsonNode[] last = {null};
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> {
            last[0] = as.get("/status/" + id).json();
            return List.of("completed", "failed").contains(last[0].path("status").asString());
        });
        return last[0];
    }

    private static int fetch(String url) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}

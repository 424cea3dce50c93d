package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A whole Kiln with {@code KILN_AUTH=on} (admin key, Telegram bot token, one CORS origin), on a
 * fresh embedded database with the sandbox, shared by the test classes that extend this. Tests
 * talk to it over real HTTP as admins and as users.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.auth=on",
        "kiln.admin-key=" + OnModeTest.ADMIN_KEY,
        "kiln.telegram-bot-token=" + OnModeTest.BOT_TOKEN,
        "kiln.cors-origins=" + OnModeTest.APP_ORIGIN,
        "kiln.start-credits=100",
        "kiln.sandbox-latency=300ms",
        "kiln.allow-private-urls=true",
        "kiln.max-run-jobs=200",
        "kiln.catalog-dir=src/test/resources/catalog-test",
        "logging.level.dev.kiln=INFO"})
abstract class OnModeTest {
    static final String ADMIN_KEY = "test-admin-key-0123456789";
    static final String BOT_TOKEN = "123456:TEST-bot-token";
    static final String APP_ORIGIN = "https://app.example.com";
    /**
     * A data dir of its own for each context: a subclass with other properties gets another context,
     * which stays open in the same JVM, and two Kilns on one embedded database file would overwrite
     * each other's sandbox accounts (its emulator then refuses the other's key).
     */
    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry r) throws IOException {
        Path dir = Files.createTempDirectory("kiln-on");
        r.add("kiln.data-dir", dir::toString);
    }

    @LocalServerPort
    int port;
    /** No credentials. */
    Http anon;
    /** The admin key. */
    Http admin;

    @BeforeEach
    void clients() {
        anon = new Http("http://127.0.0.1:" + port);
        admin = anon.with("x-admin-key", ADMIN_KEY);
    }

    /** A user made by the admin, with its id, a session (token and cookie) and clients for each credential. */
    record User(String id, String username, String password, String token, String csrf, Http bearer, Http cookie) {}

    User newUser(Number credits) {
        String name = "u" + UUID.randomUUID().toString().substring(0, 8);
        String password = "pw-" + UUID.randomUUID();
        Http.Answer made = admin.post("/v1/admin/users", Json.write(Json.object().put("username", name).put("password", password)
                .put("credits", credits.doubleValue())));
        assertThat(made.status()).as(made.toString()).isEqualTo(201);
        Http.Answer login = anon.post("/v1/auth/login", Json.write(Json.object().put("username", name).put("password", password)));
        assertThat(login.status()).as(login.toString()).isEqualTo(200);
        String token = login.json().get("session_token").asString();
        return new User(made.json().get("id").asString(), name, password, token, login.json().get("csrf_token").asString(),
                anon.with("Authorization", "Bearer " + token), anon.with("Cookie", "kiln_session=" + token));
    }

    User newUser() {
        return newUser(100);
    }

    static String submit(Http as, String json) {
        Http.Answer a = as.post("/v1/jobs", json);
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        return a.json().get("id").asString();
    }

    static JsonNode awaitJob(Http as, String id, Duration max) {
        JsonNode[] last = {null};
        await().atMost(max).pollInterval(Duration.ofMillis(50)).until(() -> {
            last[0] = as.get("/v1/jobs/" + id).json();
            return List.of("succeeded", "failed", "canceled", "timed_out").contains(last[0].path("status").asString());
        });
        return last[0];
    }

    static JsonNode awaitRun(Http as, String id, Duration max) {
        JsonNode[] last = {null};
        await().atMost(max).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = as.get("/v1/runs/" + id).json();
            return !last[0].path("status").asString().equals("running");
        });
        return last[0];
    }

    JsonNode ledger() {
        Http.Answer a = admin.get("/v1/admin/ledger");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a.json();
    }

    static Map<String, String> csrf(User u) {
        return Map.of(SecurityConfig.CSRF_HEADER, u.csrf());
    }
}

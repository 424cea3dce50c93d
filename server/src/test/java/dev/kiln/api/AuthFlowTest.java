package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Logins, sessions, logout, API keys, the admin key, Telegram, CSRF and CORS, over real HTTP with KILN_AUTH=on. */
class AuthFlowTest extends OnModeTest {
    private static final String JOB = "{\"model\":\"sandbox-image\",\"prompt\":\"auth\",\"params\":{\"width\":64,\"height\":64}}";

    @Test
    void loginSetsAnHttpOnlySameSiteCookieForADayAndRotatesTheSession() {
        User u = newUser();
        Http.Answer login = anon.post("/v1/auth/login", Json.write(Json.object().put("username", u.username()).put("password", u.password())));
        assertThat(login.status()).isEqualTo(200);
        String cookie = login.header("Set-Cookie");
        String token = login.json().get("session_token").asString();
        assertThat(cookie).startsWith("kiln_session=" + token + ";").contains("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=86400");
        assertThat(login.json().get("user").get("credits").asInt()).isEqualTo(100);
        assertThat(Instant.parse(login.json().get("expires_at").asString())).isBetween(Instant.now().plusSeconds(86_000), Instant.now().plusSeconds(86_500));

        Http asCookie = anon.with("Cookie", "kiln_session=" + token);
        JsonNode me = asCookie.get("/v1/me").json();
        assertThat(me.get("username").asString()).isEqualTo(u.username());
        assertThat(me.get("via").asString()).isEqualTo("session_cookie");
        assertThat(me.get("csrf_token").asString()).isEqualTo(login.json().get("csrf_token").asString());

        // Logging in again with the old cookie rotates: a new session, and the old one is over.
        Http.Answer again = asCookie.post("/v1/auth/login", Json.write(Json.object().put("username", u.username()).put("password", u.password())));
        assertThat(again.status()).isEqualTo(200);
        String rotated = again.json().get("session_token").asString();
        assertThat(rotated).isNotEqualTo(token);
        assertThat(asCookie.get("/v1/me").status()).isEqualTo(401);
        assertThat(anon.with("Cookie", "kiln_session=" + rotated).get("/v1/me").status()).isEqualTo(200);
    }

    @Test
    void aWrongPasswordAndAnUnknownUserAnswerAlike() {
        User u = newUser();
        Http.Answer wrong = anon.post("/v1/auth/login", Json.write(Json.object().put("username", u.username()).put("password", "not-the-password")));
        Http.Answer unknown = anon.post("/v1/auth/login", Json.write(Json.object().put("username", "nobody-" + u.username()).put("password", "whatever-pw")));
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(wrong.text()).isEqualTo(unknown.text());
        assertThat(wrong.json().get("code").asString()).isEqualTo("unauthorized");
        assertThat(wrong.header("Set-Cookie")).isNull();
    }

    @Test
    void repeatedFailedLoginsAreRateLimitedEvenWithTheRightPassword() {
        User u = newUser();
        for (int i = 0; i < 5; i++) {
            assertThat(anon.post("/v1/auth/login", Json.write(Json.object().put("username", u.username()).put("password", "guess-" + i)))
                    .status()).isEqualTo(401);
        }
        Http.Answer limited = anon.post("/v1/auth/login", Json.write(Json.object().put("username", u.username()).put("password", u.password())));
        assertThat(limited.status()).as(limited.toString()).isEqualTo(429);
        assertThat(limited.json().get("code").asString()).isEqualTo("rate_limited");
        assertThat(Integer.parseInt(limited.header("Retry-After"))).isBetween(1, 60);
    }

    @Test
    void logoutEndsTheSessionAndClearsTheCookie() {
        User u = newUser();
        // A write by cookie needs the CSRF token, logout included.
        assertThat(u.cookie().post("/v1/auth/logout", null).status()).isEqualTo(403);
        Http.Answer out = u.cookie().post("/v1/auth/logout", null, csrf(u));
        assertThat(out.status()).isEqualTo(204);
        assertThat(out.header("Set-Cookie")).startsWith("kiln_session=;").contains("Max-Age=0");
        assertThat(u.cookie().get("/v1/me").status()).isEqualTo(401);
        assertThat(u.bearer().get("/v1/me").status()).isEqualTo(401);
    }

    @Test
    void aSessionTokenIsAcceptedAsBearerAndAsXApiKeyAndLogoutByTokenRevokesIt() {
        User u = newUser();
        assertThat(u.bearer().get("/v1/me").json().get("via").asString()).isEqualTo("session_token");
        Http xKey = anon.with("X-API-Key", u.token());
        assertThat(xKey.get("/v1/me").json().get("id").asString()).isEqualTo(u.id());
        assertThat(u.bearer().post("/v1/auth/logout", null).status()).isEqualTo(204);
        assertThat(xKey.get("/v1/me").status()).isEqualTo(401);
    }

    @Test
    void cookieWritesNeedTheCsrfTokenAndHeaderCredentialsDoNot() {
        User u = newUser();
        Http.Answer none = u.cookie().post("/v1/jobs", JOB);
        assertThat(none.status()).as(none.toString()).isEqualTo(403);
        assertThat(none.json().get("detail").asString()).contains("X-CSRF-Token");
        assertThat(u.cookie().post("/v1/jobs", JOB, Map.of("X-CSRF-Token", "forged")).status()).isEqualTo(403);
        assertThat(u.bearer().get("/v1/jobs").json().get("items")).isEmpty();

        assertThat(u.cookie().post("/v1/jobs", JOB, csrf(u)).status()).isEqualTo(202);
        assertThat(u.bearer().post("/v1/jobs", JOB).status()).isEqualTo(202);
        assertThat(u.cookie().get("/v1/jobs").json().get("items")).hasSize(2);
        // Another session's token does not fit this session.
        User other = newUser();
        assertThat(u.cookie().post("/v1/jobs", JOB, Map.of("X-CSRF-Token", other.csrf())).status()).isEqualTo(403);
    }

    @Test
    void apiKeysAreShownOnceListedWithoutTheSecretUsableAnywhereAndRevocable() {
        User u = newUser();
        Http.Answer made = u.bearer().post("/v1/api-keys", "{\"name\":\"ci\"}");
        assertThat(made.status()).as(made.toString()).isEqualTo(201);
        String key = made.json().get("key").asString();
        String id = made.json().get("id").asString();
        assertThat(key).startsWith("kiln_k_");
        assertThat(made.header("Location")).isEqualTo("/v1/api-keys/" + id);

        JsonNode list = u.bearer().get("/v1/api-keys").json().get("items");
        assertThat(list).hasSize(1);
        assertThat(list.get(0).get("name").asString()).isEqualTo("ci");
        assertThat(list.get(0).has("key")).isFalse();
        assertThat(list.get(0).toString()).doesNotContain(key);
        assertThat(key).startsWith(list.get(0).get("hint").asString().replace("…", ""));

        Http bearer = anon.with("Authorization", "Bearer " + key);
        Http header = anon.with("X-API-Key", key);
        assertThat(bearer.get("/v1/me").json().get("via").asString()).isEqualTo("api_key");
        assertThat(header.get("/v1/me").json().get("id").asString()).isEqualTo(u.id());
        assertThat(header.post("/v1/jobs", JOB).status()).isEqualTo(202);

        User stranger = newUser();
        assertThat(stranger.bearer().delete("/v1/api-keys/" + id).status()).isEqualTo(404);
        assertThat(bearer.get("/v1/me").status()).isEqualTo(200);
        assertThat(u.bearer().delete("/v1/api-keys/" + id).status()).isEqualTo(204);
        Http.Answer revoked = bearer.get("/v1/me");
        assertThat(revoked.status()).isEqualTo(401);
        assertThat(revoked.json().get("detail").asString()).contains("not valid");
        assertThat(u.bearer().get("/v1/api-keys").json().get("items")).isEmpty();
        assertThat(u.bearer().post("/v1/api-keys", "{\"name\":\"\"}").status()).isEqualTo(422);
    }

    @Test
    void withoutCredentialsTheApiAnswers401AndOnlyThePublicRoutesOpen() {
        Http.Answer a = anon.get("/v1/jobs");
        assertThat(a.status()).isEqualTo(401);
        assertThat(a.header("Content-Type")).startsWith("application/problem+json");
        assertThat(a.header("WWW-Authenticate")).isEqualTo("Bearer");
        for (String path : List.of("/v1/runs", "/v1/me", "/v1/api-keys", "/v1/events", "/v1/jobs/job_x", "/v1/assets/ast_x/thumbnail")) {
            assertThat(anon.get(path).status()).as(path).isEqualTo(401);
        }
        assertThat(anon.post("/v1/jobs", JOB).status()).isEqualTo(401);
        assertThat(anon.get("/v1/assets/ast_x").status()).isEqualTo(401);
        assertThat(anon.get("/v1/admin/users").status()).isEqualTo(401);
        assertThat(anon.get("/metrics").status()).isEqualTo(401);
        assertThat(anon.with("Authorization", "Bearer kiln_k_nothing-like-a-real-key").get("/v1/me").json().get("detail").asString())
                .contains("not valid");
        assertThat(anon.with("Authorization", "Basic dXNlcjpwdw==").get("/v1/me").json().get("detail").asString()).contains("Bearer");
        for (String open : List.of("/health", "/v1/models", "/v1/models/sandbox-image", "/openapi.json")) {
            assertThat(anon.get(open).status()).as(open).isEqualTo(200);
        }
    }

    @Test
    void theAdminKeyOpensAdminRoutesAndAnAdminSessionAndUsersAreKeptOut() {
        User u = newUser();
        assertThat(admin.get("/v1/admin/users").status()).isEqualTo(200);
        assertThat(admin.get("/v1/admin/accounts").status()).isEqualTo(200);
        assertThat(admin.get("/metrics").status()).isEqualTo(200);
        Http.Answer wrongKey = anon.with("x-admin-key", "nope").get("/v1/admin/users");
        assertThat(wrongKey.status()).isEqualTo(401);
        assertThat(wrongKey.json().get("detail").asString()).contains("x-admin-key is wrong");
        for (String path : List.of("/v1/admin/users", "/v1/admin/accounts", "/v1/admin/ledger", "/v1/webhook-secret", "/metrics")) {
            Http.Answer forbidden = u.bearer().get(path);
            assertThat(forbidden.status()).as(path).isEqualTo(403);
            assertThat(forbidden.json().get("code").asString()).isEqualTo("forbidden");
        }
        assertThat(u.bearer().post("/v1/admin/users", "{\"username\":\"x\",\"password\":\"y\"}").status()).isEqualTo(403);
        assertThat(u.bearer().post("/v1/admin/users/" + u.id() + "/credits", "{\"amount\":5,\"reason\":\"me\"}").status()).isEqualTo(403);

        Http.Answer session = admin.post("/v1/admin/session", null);
        assertThat(session.status()).as(session.toString()).isEqualTo(200);
        assertThat(session.header("Set-Cookie")).contains("HttpOnly", "SameSite=Lax");
        assertThat(session.json().get("user").get("role").asString()).isEqualTo("admin");
        Http adminCookie = anon.with("Cookie", "kiln_session=" + session.json().get("session_token").asString());
        assertThat(adminCookie.get("/v1/admin/users").status()).isEqualTo(200);
        assertThat(adminCookie.get("/v1/me").json().get("role").asString()).isEqualTo("admin");

        // The admin ends a user's sessions.
        Http.Answer revoked = adminCookie.delete("/v1/admin/users/" + u.id() + "/sessions",
                Map.of("X-CSRF-Token", session.json().get("csrf_token").asString()));
        assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
        assertThat(revoked.json().get("revoked").asInt()).isEqualTo(1);
        assertThat(u.bearer().get("/v1/me").status()).isEqualTo(401);
        assertThat(admin.delete("/v1/admin/users/usr_nobody/sessions").status()).isEqualTo(404);
    }

    @Test
    void adminsCreateUsersWithClearErrors() {
        Http.Answer bad = admin.post("/v1/admin/users", "{\"username\":\"A b\",\"password\":\"short\",\"role\":\"god\",\"credits\":-1}");
        assertThat(bad.status()).isEqualTo(422);
        assertThat(bad.json().get("errors").findValuesAsString("field")).containsExactlyInAnyOrder("username", "password", "role", "credits");
        User u = newUser();
        Http.Answer taken = admin.post("/v1/admin/users", Json.write(Json.object().put("username", u.username().toUpperCase()).put("password", "long-enough")));
        assertThat(taken.status()).isEqualTo(409);
        Http.Answer tooLong = admin.post("/v1/admin/users", Json.write(Json.object().put("username", "longpw" + System.nanoTime())
                .put("password", "é".repeat(40))));
        assertThat(tooLong.status()).isEqualTo(422);
        Http.Answer users = admin.get("/v1/admin/users?limit=1");
        assertThat(users.json().get("items")).hasSize(1);
        assertThat(users.json().get("next_cursor").isString()).isTrue();
        assertThat(users.json().get("items").get(0).has("password_hash")).isFalse();
    }

    // ---- Telegram ----

    @Test
    void telegramLoginAcceptsValidInitDataOnceAndMakesOneUserPerTelegramId() {
        long tgId = 7_000_000_000L + (System.nanoTime() % 1_000_000);
        String initData = initData(BOT_TOKEN, tgId, Instant.now().getEpochSecond(), "q1");
        Http.Answer first = anon.post("/v1/auth/telegram", Json.write(Json.object().put("initData", initData)));
        assertThat(first.status()).as(first.toString()).isEqualTo(200);
        JsonNode user = first.json().get("user");
        assertThat(user.get("username").asString()).isEqualTo("tg_" + tgId);
        assertThat(user.get("telegram_username").asString()).isEqualTo("durov_" + tgId);
        assertThat(user.get("display_name").asString()).isEqualTo("Pavel D");
        assertThat(user.get("credits").asInt()).isEqualTo(100);
        assertThat(first.header("Set-Cookie")).startsWith("kiln_session=");
        String token = first.json().get("session_token").asString();
        assertThat(anon.with("Authorization", "Bearer " + token).get("/v1/me").json().get("id").asString()).isEqualTo(user.get("id").asString());

        // The same initData again is a replay.
        Http.Answer replay = anon.post("/v1/auth/telegram", Json.write(Json.object().put("initData", initData)));
        assertThat(replay.status()).isEqualTo(401);
        assertThat(replay.json().get("detail").asString()).contains("already used");

        // Fresh data for the same Telegram user: the same Kiln user.
        Http.Answer second = anon.post("/v1/auth/telegram", Json.write(Json.object().put("initData", initData(BOT_TOKEN, tgId,
                Instant.now().getEpochSecond(), "q2"))));
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.json().get("user").get("id").asString()).isEqualTo(user.get("id").asString());
    }

    @Test
    void telegramLoginRefusesForgedAlteredAndStaleInitData() {
        long tgId = 8_000_000_000L + (System.nanoTime() % 1_000_000);
        long now = Instant.now().getEpochSecond();
        // Signed with another bot's token.
        assertRefused(initData("999:other-bot", tgId, now, "f1"), "not valid");
        // Altered after signing: another user id under the original hash.
        String good = initData(BOT_TOKEN, tgId, now, "f2");
        assertRefused(good.replace(URLEncoder.encode("\"id\":" + tgId, StandardCharsets.UTF_8),
                URLEncoder.encode("\"id\":" + (tgId + 1), StandardCharsets.UTF_8)), "not valid");
        // A field added after signing.
        assertRefused(good + "&start_param=admin", "not valid");
        // Correctly signed but two hours old.
        assertRefused(initData(BOT_TOKEN, tgId, now - 7200, "f3"), "too old");
        // No hash at all.
        assertRefused("auth_date=" + now + "&user=%7B%22id%22%3A1%7D", "not valid");
        Http.Answer missing = anon.post("/v1/auth/telegram", "{}");
        assertThat(missing.status()).isEqualTo(422);
        // None of these made a user.
        assertThat(admin.get("/v1/admin/users?limit=200").text()).doesNotContain("tg_" + tgId).doesNotContain("tg_" + (tgId + 1));
    }

    private void assertRefused(String initData, String why) {
        Http.Answer a = anon.post("/v1/auth/telegram", Json.write(Json.object().put("initData", initData)));
        assertThat(a.status()).as(initData + " -> " + a).isEqualTo(401);
        assertThat(a.json().get("detail").asString()).contains(why);
        assertThat(a.header("Set-Cookie")).isNull();
    }

    /**
     * initData as a Telegram client makes it (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
     * URL-encoded fields plus hash = hex HMAC-SHA256(data-check-string) under HMAC-SHA256("WebAppData", bot token).
     */
    static String initData(String botToken, long tgId, long authDate, String queryId) {
        Map<String, String> fields = new TreeMap<>();
        fields.put("auth_date", Long.toString(authDate));
        fields.put("query_id", queryId);
        fields.put("user", "{\"id\":" + tgId + ",\"first_name\":\"Pavel\",\"last_name\":\"D\",\"username\":\"durov_" + tgId
                + "\",\"language_code\":\"en\"}");
        String check = fields.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n"));
        String hash = HexFormat.of().formatHex(hmac(hmac("WebAppData".getBytes(StandardCharsets.UTF_8),
                botToken.getBytes(StandardCharsets.UTF_8)), check.getBytes(StandardCharsets.UTF_8)));
        return fields.entrySet().stream().map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&")) + "&hash=" + hash;
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m.doFinal(data);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- CORS ----

    @Test
    void corsAllowsTheListedOriginWithCredentialsAndNoOther() {
        Http.Answer pre = preflight(APP_ORIGIN);
        assertThat(pre.status()).isEqualTo(200);
        assertThat(pre.header("Access-Control-Allow-Origin")).isEqualTo(APP_ORIGIN);
        assertThat(pre.header("Access-Control-Allow-Credentials")).isEqualTo("true");
        assertThat(pre.header("Access-Control-Allow-Headers")).containsIgnoringCase("X-CSRF-Token");

        Http.Answer evil = preflight("https://evil.example");
        assertThat(evil.status()).isEqualTo(403);
        assertThat(evil.header("Access-Control-Allow-Origin")).isNull();

        User u = newUser();
        Http.Answer get = u.bearer().get("/v1/me", Map.of("Origin", APP_ORIGIN));
        assertThat(get.header("Access-Control-Allow-Origin")).isEqualTo(APP_ORIGIN);
        assertThat(u.bearer().get("/v1/me", Map.of("Origin", "https://evil.example")).header("Access-Control-Allow-Origin")).isNull();
    }

    private Http.Answer preflight(String origin) {
        return anon.send(HttpRequest.newBuilder(anon.uri("/v1/jobs")).method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", origin).header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type,x-csrf-token").build());
    }
}

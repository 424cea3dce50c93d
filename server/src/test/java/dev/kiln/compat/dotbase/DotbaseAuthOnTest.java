package dev.kiln.compat.dotbase;

import static dev.kiln.compat.dotbase.DotbaseExamples.DOC_ID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The {@code .base} API with {@code KILN_AUTH=on}: a Telegram login through {@code /api/auth/telegram}
 * gives the session token, and the documentation's examples run with one header added
 * ({@code Authorization: Bearer <session_token>}); without it they get the seed's 401, beyond the
 * user's credits its 402, and another user's generation is its 404.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.auth=on", "kiln.admin-key=dotbase-admin-key-0123456789", "kiln.telegram-bot-token=" + DotbaseAuthOnTest.BOT_TOKEN,
        "kiln.start-credits=10", "kiln.sandbox-latency=300ms", "kiln.allow-private-urls=true"})
class DotbaseAuthOnTest {
    static final String BOT_TOKEN = "424242:dotbase-test-bot";

    @DynamicPropertySource
    static void props(DynamicPropertyRegistry r) throws IOException {
        r.add("kiln.data-dir", Files.createTempDirectory("kiln-dotbase-on")::toString);
    }

    @LocalServerPort
    int port;
    Http anon;

    @BeforeEach
    void client() {
        anon = new Http("http://127.0.0.1:" + port);
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }

    record Login(String userId, String token, String cookie) {
        String header() {
            return "Authorization: Bearer " + token;
        }
    }

    Login telegramLogin(long tgId) {
        Http.Answer a = anon.post("/api/auth/telegram", Json.write(Json.object().put("initData", initData(tgId))));
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        JsonNode body = a.json();
        assertThat(body.propertyNames()).containsExactly("user", "session_token");
        assertThat(body.get("user").propertyNames()).containsExactly("id", "telegram_username", "telegram_first_name", "credits");
        assertThat(body.get("user").get("telegram_username").asString()).isEqualTo("durov_" + tgId);
        assertThat(body.get("user").get("telegram_first_name").asString()).isEqualTo("Pavel");
        assertThat(a.header("Set-Cookie")).startsWith("kiln_session=");
        return new Login(body.get("user").get("id").asString(), body.get("session_token").asString(), a.header("Set-Cookie").split(";")[0]);
    }

    @Test
    void theExamplesRunWithOneHeaderAndRefuseWithoutItBeyondTheCreditsAndForStrangers() {
        long tgId = ThreadLocalRandom.current().nextLong(1_000_000, 9_000_000);
        Login me = telegramLogin(tgId);
        assertThat(anon.post("/api/auth/telegram", Json.write(Json.object().put("initData", "query_id=1&hash=00"))).status()).isEqualTo(401);
        assertThat(anon.get("/api/models/list").status()).as("the model list is public").isEqualTo(200);

        // Without the header: the seed's 401.
        SeedExamples.Result noHeader = SeedExamples.curl(DotbaseExamples.CURL_CREATE, base(), null);
        JsonNode unauthorized = Json.parse(noHeader.out());
        assertThat(unauthorized.get("error").asString()).isEqualTo("Unauthorized");
        assertThat(anon.post("/api/generations/create", "{}").status()).isEqualTo(401);
        assertThat(anon.get("/api/generations/list").status()).isEqualTo(401);

        // With it: three generations of 3 credits each out of 10.
        SeedExamples.Result curl = SeedExamples.curl(DotbaseExamples.CURL_CREATE, base(), me.header());
        String fromCurl = Json.parse(curl.out()).get("id").asString();
        SeedExamples.Result py = SeedExamples.python(DotbaseExamples.PYTHON_CREATE, base(), me.header());
        assertThat(py.exit()).as(py.toString()).isZero();
        String fromPython = DotbaseSandboxTest.generationId(py.out());
        SeedExamples.Result js = SeedExamples.js(DotbaseExamples.JS_CREATE, base(), me.header());
        String fromJs = DotbaseSandboxTest.generationId(js.out());
        for (String id : List.of(fromCurl, fromPython, fromJs)) {
            SeedExamples.Result polled = SeedExamples.js("const generationId = '" + id + "';\n" + DotbaseExamples.JS_POLL, base(), me.header());
            assertThat(polled.out()).as(polled.toString()).startsWith("Output: [");
        }
        JsonNode g = Json.parse(SeedExamples.curl(DotbaseExamples.CURL_GET.replace(DOC_ID, fromCurl), base(), me.header()).out());
        assertThat(g.get("user_id").asString()).isEqualTo(me.userId());
        assertThat(g.get("status").asString()).isEqualTo("completed");
        JsonNode list = Json.parse(SeedExamples.curl(DotbaseExamples.CURL_LIST, base(), me.header()).out());
        assertThat(list.get("total").asLong()).isEqualTo(3);
        assertThat(SeedExamples.js(DotbaseExamples.JS_LIST, base(), me.header()).out()).contains("Всего: 3", "Страниц: 1");

        // Two images cost 6 credits; 1 is left: the seed's 402.
        JsonNode refused = Json.parse(SeedExamples.js(DotbaseExamples.JS_FLUX + DotbaseExamples.JS_PRINT_RESPONSE, base(), me.header()).out());
        assertThat(refused.get("status").asInt()).as(refused.toString()).isEqualTo(402);
        assertThat(refused.get("body").get("error").asString()).isEqualTo("Insufficient credits");
        assertThat(refused.get("body").get("message").asString()).contains("costs 6 credits", "balance is 1");
        assertThat(Json.parse(SeedExamples.curl(DotbaseExamples.CURL_LIST, base(), me.header()).out()).get("total").asLong())
                .as("nothing was created").isEqualTo(3);

        // A stranger's generation is the seed's 404, and not in their list.
        Login stranger = telegramLogin(tgId + 1);
        Http theirs = anon.with("Authorization", "Bearer " + stranger.token());
        Http.Answer peek = theirs.get("/api/generations/" + fromCurl);
        assertThat(peek.status()).isEqualTo(404);
        assertThat(peek.text()).isEqualTo("{\"error\":\"Generation not found\"}");
        assertThat(theirs.delete("/api/generations/" + fromCurl).status()).isEqualTo(404);
        assertThat(theirs.get("/api/generations/list").json().get("total").asLong()).isZero();
        assertThat(anon.with("Authorization", "Bearer " + me.token()).get("/api/generations/" + fromCurl).status()).isEqualTo(200);

        // The session cookie alone cannot write (no CSRF token): that is why the header is the one to add.
        Http.Answer byCookie = anon.with("Cookie", me.cookie()).post("/api/generations/create",
                "{\"action\":\"create\",\"model_id\":\"flux-schnell\",\"prompt\":\"x\"}");
        assertThat(byCookie.status()).isEqualTo(403);

        SeedExamples.Result deleted = SeedExamples.js(DotbaseExamples.JS_DELETE + "\nawait deleteGeneration('" + fromJs + "');", base(), me.header());
        assertThat(deleted.out()).isEqualTo("Generation deleted");
        assertThat(anon.with("Authorization", "Bearer " + me.token()).get("/api/generations/" + fromJs).status()).isEqualTo(404);
    }

    /** initData as Telegram makes it (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app). */
    static String initData(long tgId) {
        Map<String, String> fields = new TreeMap<>();
        fields.put("auth_date", Long.toString(Instant.now().getEpochSecond()));
        fields.put("query_id", "AAH" + tgId);
        fields.put("user", "{\"id\":" + tgId + ",\"first_name\":\"Pavel\",\"last_name\":\"D\",\"username\":\"durov_" + tgId + "\"}");
        String check = fields.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n"));
        String hash = HexFormat.of().formatHex(hmac(hmac("WebAppData".getBytes(StandardCharsets.UTF_8),
                BOT_TOKEN.getBytes(StandardCharsets.UTF_8)), check.getBytes(StandardCharsets.UTF_8)));
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
}

package dev.kiln.compat.dotbase;

import static dev.kiln.compat.dotbase.DotbaseExamples.DOC_IMAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.account.AccountStore;
import dev.kiln.emulator.replicate.ReplicateEmulator;
import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The {@code .base} API against a Replicate emulator reached as a real Replicate account would
 * be (no sandbox), its webhooks arriving as the seed had Replicate send them: at
 * {@code /api/webhook/replicate}, no token in the URL. Kiln's public address is a relay that
 * sends Replicate's deliveries there, as a deployment that kept the seed's webhook URL would.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.sandbox=off", "kiln.allow-private-urls=true", "kiln.catalog-dir=src/test/resources/catalog-test"})
class DotbaseReplicateEmulatorTest {
    static final Relay RELAY = new Relay();
    static ReplicateEmulator replicate;
    static HttpServer images;
    static String imageUrl;

    @DynamicPropertySource
    static void props(DynamicPropertyRegistry r) throws IOException {
        r.add("kiln.public-base-url", RELAY::url);
        r.add("kiln.data-dir", Files.createTempDirectory("kiln-dotbase-rep")::toString);
    }

    @LocalServerPort
    int port;
    @Autowired
    AccountStore accounts;
    @Autowired
    JdbcClient jdbc;
    Http http;

    @BeforeAll
    static void start() throws IOException {
        replicate = ReplicateEmulator.start(ReplicateEmulator.Config.defaults().withApiToken("r8_dotbase")
                .withLatency(Duration.ofMillis(1500)).withWebhookRetries(3, Duration.ofMillis(200)));
        BufferedImage img = new BufferedImage(80, 60, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 60; y++) for (int x = 0; x < 80; x++) img.setRGB(x, y, (x * 3) << 16 | (y * 4) << 8 | 40);
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
    static void stop() {
        replicate.close();
        images.stop(0);
        RELAY.close();
    }

    @BeforeEach
    void setUp() {
        RELAY.target = "http://127.0.0.1:" + port;
        http = new Http("http://127.0.0.1:" + port);
        accounts.upsertRuntime(new AccountStore.Definition("replicate", "emulator", "env", replicate.apiUrl(), "r8_dotbase",
                Map.of("webhook_secret", replicate.config().webhookSecret()), false, 16, 60_000), Instant.now());
    }

    @AfterEach
    void calm() {
        replicate.faults().reset();
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }

    double webhooks(String outcome) {
        Matcher m = Pattern.compile("kiln_webhooks_total\\{[^}]*outcome=\"" + outcome + "\"[^}]*provider=\"replicate\"[^}]*} ([0-9.]+)")
                .matcher(http.get("/metrics").text());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    JsonNode poll(String id) {
        SeedExamples.Result r = SeedExamples.js("const generationId = '" + id + "';\n" + DotbaseExamples.JS_POLL, base(), null);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).startsWith("Output: [");
        return http.get("/api/generations/" + id).json();
    }

    /** The prediction as the emulator reports it (its metrics.predict_time). */
    JsonNode prediction(String id) {
        return new Http(replicate.apiUrl()).with("Authorization", "Bearer r8_dotbase").get("/predictions/" + id).json();
    }

    /** Last: its full-size images keep the emulator (in this JVM) busy rendering for a while. */
    @Test
    @org.junit.jupiter.api.Order(3)
    void theExamplesRunAgainstReplicateAndReportItsPredictTime() {
        // One at a time, each awaited by the documentation's polling example: the emulator renders
        // full-size images in this JVM, and a pile of them would slow Kiln's own fetches here.
        List<String> ids = new java.util.ArrayList<>();
        SeedExamples.Result js = SeedExamples.js(DotbaseExamples.JS_CREATE, base(), null);
        assertThat(js.exit()).as(js.toString()).isZero();
        ids.add(DotbaseSandboxTest.generationId(js.out()));
        poll(ids.getLast());
        SeedExamples.Result curl = SeedExamples.curl(DotbaseExamples.CURL_CREATE, base(), null);
        assertThat(curl.exit()).as(curl.toString()).isZero();
        ids.add(Json.parse(curl.out()).get("id").asString());
        poll(ids.getLast());
        SeedExamples.Result py = SeedExamples.python(DotbaseExamples.PYTHON_CREATE, base(), null);
        assertThat(py.exit()).as(py.toString()).isZero();
        ids.add(DotbaseSandboxTest.generationId(py.out()));
        poll(ids.getLast());
        for (String e : List.of(DotbaseExamples.JS_FLUX, DotbaseExamples.JS_ESRGAN, DotbaseExamples.JS_NANO, DotbaseExamples.JS_BIREFNET)) {
            SeedExamples.Result r = SeedExamples.js(e.replace(DOC_IMAGE, imageUrl) + DotbaseExamples.JS_PRINT_RESPONSE, base(), null);
            JsonNode printed = Json.parse(r.out());
            assertThat(printed.get("status").asInt()).as(r.toString()).isEqualTo(200);
            ids.add(printed.get("body").get("id").asString());
            poll(ids.getLast());
        }
        Set<String> models = new java.util.HashSet<>();
        for (String id : ids) {
            JsonNode g = poll(id);
            models.add(g.get("model_id").asString());
            assertThat(g.get("status").asString()).isEqualTo("completed");
            JsonNode p = prediction(g.get("prediction_id").asString());
            assertThat(p.get("status").asString()).isEqualTo("succeeded");
            long predictMs = Math.round(p.get("metrics").get("predict_time").asDouble() * 1000);
            assertThat(g.get("processing_time_ms").asLong()).as("Replicate's metrics.predict_time, in ms").isBetween(predictMs - 1, predictMs + 1);
            assertThat(g.get("processing_time_ms").asLong()).isGreaterThanOrEqualTo(1000);
            assertThat(g.get("output_urls")).isNotEmpty().allSatisfy(u -> assertThat(u.asString()).startsWith(RELAY.url() + "/v1/assets/"));
        }
        assertThat(models).containsExactlyInAnyOrder("flux-schnell", "real-esrgan", "nano-banana-edit", "birefnet");

        // The admin's token statistics, by the seed's own SQL, count this account's requests.
        List<Map<String, Object>> stats = jdbc.sql(DotbaseExamples.SQL_TOKEN_STATS).query().listOfRows();
        assertThat(stats).hasSize(1);
        assertThat(((Number) stats.getFirst().get("request_count")).longValue()).isGreaterThanOrEqualTo(ids.size());
        assertThat(stats.getFirst().get("is_active")).isEqualTo(true);
        JsonNode pool = http.get("/v1/admin/accounts?provider=replicate").json();
        assertThat(pool.get("totals").get("requests").asLong()).isEqualTo(((Number) stats.getFirst().get("request_count")).longValue());
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void replicatesWebhooksArriveAtTheSeedsUrlWithoutATokenAndFinishTheGeneration() {
        double accepted = webhooks("accepted");
        int relayed = RELAY.webhooks.get();
        long start = System.nanoTime();
        Http.Answer created = http.post("/api/generations/create", "{\"action\":\"create\",\"model_id\":\"test-replicate\",\"prompt\":\"hooked\"}");
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        String id = created.json().get("id").asString();
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100))
                .until(() -> http.get("/api/generations/" + id).json().get("status").asString().equals("completed"));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        // The model's ETA is 20 s: Kiln's first poll would come only then, so the webhook finished it.
        assertThat(took).isLessThan(Duration.ofSeconds(19));
        assertThat(RELAY.webhooks.get()).isGreaterThan(relayed);
        assertThat(replicate.submissions().getLast().webhook()).startsWith(RELAY.url() + "/webhooks/replicate?token=");
        assertThat(webhooks("accepted")).isGreaterThan(accepted);
        System.out.printf("dotbase webhook: test-replicate (ETA 20 s) completed in %d ms through /api/webhook/replicate%n", took.toMillis());
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void aForgedOrUnknownDeliveryIsRefusedAndAVerifiedOneIsOnlyAHint() {
        replicate.faults().neverComplete(1);
        Http.Answer created = http.post("/api/generations/create", "{\"action\":\"create\",\"model_id\":\"test-replicate\",\"prompt\":\"stuck\"}");
        String id = created.json().get("id").asString();
        await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/api/generations/" + id).json().path("prediction_id").isString());
        String prediction = http.get("/api/generations/" + id).json().get("prediction_id").asString();
        String body = "{\"id\":\"" + prediction + "\",\"status\":\"succeeded\",\"output\":[\"https://replicate.delivery/x.png\"],"
                + "\"metrics\":{\"predict_time\":5.23}}";
        String ts = Long.toString(Instant.now().getEpochSecond());

        Http.Answer forged = deliver("msg_forged", ts, "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", body);
        assertThat(forged.status()).isEqualTo(401);
        assertThat(forged.json().get("error").asString()).isEqualTo("Invalid webhook signature");
        Http.Answer unknown = deliver("msg_unknown", ts, sign("msg_unknown", ts, body.replace(prediction, "no-such-prediction")),
                body.replace(prediction, "no-such-prediction"));
        assertThat(unknown.status()).isEqualTo(401);
        Http.Answer stale = deliver("msg_stale", "1000", sign("msg_stale", "1000", body), body);
        assertThat(stale.status()).isEqualTo(401);

        // Signed as Replicate signs: accepted, but only as a hint. The prediction is still running, so is the generation.
        Http.Answer signed = deliver("msg_ok", ts, sign("msg_ok", ts, body), body);
        assertThat(signed.status()).as(signed.toString()).isEqualTo(200);
        assertThat(signed.text()).isEqualTo("{\"received\":true}");
        Http.Answer again = deliver("msg_ok", ts, sign("msg_ok", ts, body), body);
        assertThat(again.status()).as("a retried delivery").isEqualTo(200);
        assertThat(http.get("/api/generations/" + id).json().get("status").asString()).isEqualTo("processing");
        assertThat(http.delete("/api/generations/" + id).text()).isEqualTo("{\"success\":true}");
    }

    Http.Answer deliver(String msgId, String ts, String signature, String body) {
        return http.send(HttpRequest.newBuilder(URI.create(base() + "/api/webhook/replicate"))
                .header("Content-Type", "application/json").header("webhook-id", msgId).header("webhook-timestamp", ts)
                .header("webhook-signature", signature).POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /** Standard Webhooks, as Replicate documents it: v1,base64(HMAC-SHA256(base64-decoded secret, "id.timestamp.body")). */
    static String sign(String msgId, String ts, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(replicate.config().webhookSecret().substring("whsec_".length())), "HmacSHA256"));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal((msgId + "." + ts + "." + body).getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Kiln's public address in this test: forwards everything to Kiln, and Replicate's deliveries
     * ({@code /webhooks/replicate?token=…}) to {@code /api/webhook/replicate} without the token.
     */
    static final class Relay implements AutoCloseable {
        final HttpServer server;
        final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        final AtomicInteger webhooks = new AtomicInteger();
        volatile String target;

        Relay() {
            try {
                server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
            server.createContext("/", ex -> {
                try (ex) {
                    String path = ex.getRequestURI().getRawPath();
                    String query = ex.getRequestURI().getRawQuery();
                    String to;
                    if (path.equals("/webhooks/replicate")) {
                        webhooks.incrementAndGet();
                        to = target + "/api/webhook/replicate";
                    } else {
                        to = target + path + (query == null ? "" : "?" + query);
                    }
                    byte[] body = ex.getRequestBody().readAllBytes();
                    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(to))
                            .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
                    ex.getRequestHeaders().forEach((k, v) -> {
                        if (!Set.of("host", "content-length", "connection", "transfer-encoding", "expect").contains(k.toLowerCase())) {
                            v.forEach(x -> b.header(k, x));
                        }
                    });
                    HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                    r.headers().firstValue("Content-Type").ifPresent(ct -> ex.getResponseHeaders().add("Content-Type", ct));
                    ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
                    if (r.body().length > 0) ex.getResponseBody().write(r.body());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}

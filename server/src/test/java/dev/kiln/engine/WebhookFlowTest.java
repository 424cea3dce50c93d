package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.wavespeed.WaveSpeedEmulator;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.testing.Http;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * With PUBLIC_BASE_URL set, providers call Kiln back: signed webhooks are accepted as hints,
 * forged ones refused (401) and change nothing, lost and duplicated ones change nothing.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT, properties = {
        "kiln.sandbox-latency=400ms", "kiln.allow-private-urls=true"})
class WebhookFlowTest {
    static final int PORT;

    static {
        try (ServerSocket s = new ServerSocket(0)) {
            PORT = s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void props(DynamicPropertyRegistry r) throws IOException {
        r.add("server.port", () -> PORT);
        r.add("kiln.public-base-url", () -> "http://127.0.0.1:" + PORT);
        r.add("kiln.data-dir", Files.createTempDirectory("kiln-webhooks")::toString);
    }

    @Autowired
    Sandbox sandbox;
    Http http;

    @BeforeEach
    void setUp() {
        http = new Http("http://127.0.0.1:" + PORT);
        sandbox.emulator(WaveSpeedEmulator.class).faults().reset();
    }

    double webhooks(String outcome) {
        Matcher m = Pattern.compile("kiln_webhooks_total\\{[^}]*outcome=\"" + outcome + "\"[^}]*provider=\"sandbox\"[^}]*} ([0-9.]+)")
                .matcher(http.get("/metrics").text());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    JsonNode run(String prompt) {
        var a = http.post("/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"" + prompt + "\",\"params\":{\"width\":64,\"height\":64}}");
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        String id = a.json().get("id").asString();
        JsonNode[] last = {null};
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            last[0] = http.get("/v1/jobs/" + id).json();
            return List.of("succeeded", "failed", "canceled", "timed_out").contains(last[0].get("status").asString());
        });
        return last[0];
    }

    @Test
    void theProviderSignedCallbackIsAccepted() {
        double before = webhooks("accepted") + webhooks("ignored");
        JsonNode j = run("called back");
        assertThat(j.get("status").asString()).isEqualTo("succeeded");
        var sub = sandbox.emulator(WaveSpeedEmulator.class).submissions().stream().filter(s -> s.id().equals(j.get("remote_id").asString())).findFirst().orElseThrow();
        assertThat(sub.webhook()).startsWith("http://127.0.0.1:" + PORT + "/webhooks/sandbox?token=");
        await().atMost(Duration.ofSeconds(10)).until(() -> webhooks("accepted") + webhooks("ignored") > before);
    }

    @Test
    void aForgedWebhookIsRefusedAndTheJobStillFinishesByPolling() {
        double before = webhooks("rejected");
        sandbox.emulator(WaveSpeedEmulator.class).faults().forgeWebhookSignatures(1);
        JsonNode j = run("forged");
        assertThat(j.get("status").asString()).isEqualTo("succeeded");
        await().atMost(Duration.ofSeconds(10)).until(() -> webhooks("rejected") > before);
    }

    @Test
    void lostAndDuplicatedWebhooksChangeNothing() {
        sandbox.emulator(WaveSpeedEmulator.class).faults().dropWebhooks(1);
        assertThat(run("lost").get("status").asString()).isEqualTo("succeeded");
        sandbox.emulator(WaveSpeedEmulator.class).faults().duplicateWebhooks(1);
        JsonNode j = run("duplicated");
        assertThat(j.get("status").asString()).isEqualTo("succeeded");
        assertThat(j.get("outputs")).hasSize(1);
    }

    @Test
    void aWebhookWithoutAValidTokenIs401() {
        Http.Answer a = http.post("/webhooks/sandbox?token=not-a-token", "{\"id\":\"x\",\"status\":\"completed\"}");
        assertThat(a.status()).isEqualTo(401);
        assertThat(a.json().get("code").asString()).isEqualTo("unauthorized");
        assertThat(http.post("/webhooks/wavespeed", "{}").status()).isEqualTo(401);
    }
}

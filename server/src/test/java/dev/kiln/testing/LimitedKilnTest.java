package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A whole Kiln with small limits and short retention (decimal durations on purpose), and a
 * {@link FaultyClock}: the context shared by the tests of limits, retention and loop survival.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.sandbox-latency=0.3s",
        "kiln.allow-private-urls=true",
        "kiln.catalog-dir=src/test/resources/catalog-test",
        // The test catalogue's workflows load test.safetensors (the sandbox has the shipped catalogue's models).
        "kiln.sandbox-comfy-models=checkpoints/test.safetensors",
        "kiln.limits.event-subscribers=3",
        "kiln.limits.event-idle-timeout=2.5s",
        "kiln.limits.event-buffer=16",
        "kiln.retention.jobs=1h",
        "kiln.retention.history=0.5h",
        "kiln.retention.idempotency=1h",
        "kiln.retention.webhook-ids=1h",
        "kiln.retention.deliveries=1h",
        "logging.level.dev.kiln=INFO"})
@Import(FaultyClock.Config.class)
public abstract class LimitedKilnTest {
    static final Path DATA;

    static {
        try {
            DATA = Files.createTempDirectory("kiln-limited");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry r) {
        r.add("kiln.data-dir", DATA::toString);
    }

    @LocalServerPort
    protected int port;
    @Autowired
    protected FaultyClock clock;
    protected Http http;

    @BeforeEach
    void client() {
        http = new Http("http://127.0.0.1:" + port);
    }

    protected String submitJob(String json) {
        Http.Answer a = http.post("/v1/jobs", json);
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        return a.json().get("id").asString();
    }

    protected JsonNode awaitJob(String id, Duration max) {
        JsonNode[] last = {null};
        await().atMost(max).pollInterval(Duration.ofMillis(50)).until(() -> {
            last[0] = http.get("/v1/jobs/" + id).json();
            return List.of("succeeded", "failed", "canceled", "timed_out").contains(last[0].get("status").asString());
        });
        return last[0];
    }
}

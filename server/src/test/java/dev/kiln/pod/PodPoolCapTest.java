package dev.kiln.pod;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import dev.kiln.testing.TestDatabases;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * The spending cap holds: a queue that would want five RTX 4090 pods ($0.69/h each) gets two under a
 * $1.50/h cap, the hold is logged once with its reason, and the work still gets done on those two.
 * On PostgreSQL (a schema of its own), where {@link PodPoolTest} runs on the embedded H2.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.sandbox-latency=1s",
        "kiln.allow-private-urls=true",
        "kiln.catalog-dir=src/test/resources/catalog-test",
        "kiln.sandbox-comfy-models=checkpoints/test.safetensors",
        "kiln.pods.enabled=true",
        "kiln.pods.max=5",
        "kiln.pods.jobs-per-pod=2",
        "kiln.pods.scale-up-after=500ms",
        "kiln.pods.idle-stop-after=2s",
        "kiln.pods.terminate-after=1s",
        "kiln.pods.interval=300ms",
        "kiln.pods.pod-concurrency=1",
        "kiln.pods.gpu-types=NVIDIA GeForce RTX 4090",
        "kiln.pods.max-spend-per-hour=1.5"})
class PodPoolCapTest extends PodPoolTesting {
    static String schema;

    @DynamicPropertySource
    static void postgres(DynamicPropertyRegistry r) {
        schema = TestDatabases.newPgSchema();
        r.add("kiln.db-url", () -> TestDatabases.pgUrl(schema));
        r.add("kiln.db-user", () -> TestDatabases.PG_USER);
    }

    @AfterAll
    static void dropSchema() {
        if (schema != null) TestDatabases.dropPgSchema(schema);
    }

    @org.springframework.beans.factory.annotation.Autowired
    org.springframework.jdbc.core.simple.JdbcClient jdbc;

    @Test
    void theSpendingCapLimitsThePoolAndTheQueueStillDrains() {
        assertThat(jdbc.sql("SELECT current_schema()").query(String.class).single()).as("runs on PostgreSQL").isEqualTo(schema);
        String tag = "capped " + UUID.randomUUID();
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 10; i++) jobs.add(submit(tag + " " + i));
        for (String id : jobs) assertThat(awaitJob(id, Duration.ofSeconds(120)).get("status").asString()).isEqualTo("succeeded");
        assertThat(mostRunning.get()).as("$1.38/h for two pods; a third would make $2.07/h").isEqualTo(2);
        assertThat(runpod.created()).isEqualTo(2);
        assertThat(decisions("hold")).hasSize(1).first().satisfies(d -> assertThat(d.get("reason").asString())
                .contains("spending cap of $1.500/h").contains("$1.380/h now + $0.690/h for another pod"));
        assertThat(pool().get("decisions")).allSatisfy(d -> assertThat(d.get("spend_per_hr").asDouble()).isLessThanOrEqualTo(1.5));
        awaitEmpty(Duration.ofSeconds(60));
    }
}

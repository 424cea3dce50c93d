package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.testing.Http;
import dev.kiln.testing.TestDatabases;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/** The whole of Kiln on PostgreSQL (KILN_DB_URL): migrations, claims, the engine, the API. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {"kiln.sandbox-latency=200ms"})
class PostgresFlowTest {
    static String schema;

    @DynamicPropertySource
    static void props(DynamicPropertyRegistry r) throws Exception {
        schema = TestDatabases.newPgSchema();
        r.add("kiln.db-url", () -> TestDatabases.pgUrl(schema));
        r.add("kiln.db-user", () -> TestDatabases.PG_USER);
        r.add("kiln.data-dir", Files.createTempDirectory("kiln-pg")::toString);
    }

    @AfterAll
    static void drop() {
        if (schema != null) TestDatabases.dropPgSchema(schema);
    }

    @LocalServerPort
    int port;
    Http http;

    @BeforeEach
    void setUp() {
        http = new Http("http://127.0.0.1:" + port);
    }

    @Test
    void aRunSucceedsOnPostgres() {
        Http.Answer a = http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"p\",\"q\"],\"count\":10,\"params\":{\"width\":64,\"height\":64}}");
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        String id = a.json().get("id").asString();
        JsonNode[] run = {null};
        await().atMost(Duration.ofSeconds(40)).until(() -> !(run[0] = http.get("/v1/runs/" + id).json()).get("status").asString().equals("running"));
        assertThat(run[0].get("status").asString()).isEqualTo("succeeded");
        assertThat(run[0].get("counts").get("succeeded").asInt()).isEqualTo(20);
        for (JsonNode j : run[0].get("jobs")) {
            assertThat(http.get(j.get("outputs").get(0).get("url").asString()).status()).isEqualTo(200);
        }
        assertThat(http.get("/health/ready").json().get("database").get("status").asString()).isEqualTo("ok");
    }
}

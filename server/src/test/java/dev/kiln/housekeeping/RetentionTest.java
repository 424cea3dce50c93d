package dev.kiln.housekeeping;

import static dev.kiln.db.Db.ts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.testing.Http;
import dev.kiln.testing.LimitedKilnTest;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * Retention with KILN_RETAIN_JOBS=1h, KILN_RETAIN_HISTORY=0.5h and 1h for idempotency records,
 * webhook ids and deliveries: each housekeeping task removes what is past its time and nothing else.
 * The tasks are run with "now" moved forward, against the real database and files.
 */
class RetentionTest extends LimitedKilnTest {
    @Autowired
    JdbcClient jdbc;
    @Autowired
    AssetService assets;
    @Autowired
    Housekeeping housekeeping;
    @Autowired
    FinishedJobsTask finishedJobs;
    @Autowired
    JobHistoryTask history;
    @Autowired
    IdempotencyKeysTask idempotency;
    @Autowired
    WebhookReceiptsTask receipts;
    @Autowired
    DeliveriesTask deliveries;

    long count(String sql, Object... args) {
        return jdbc.sql(sql).params(args).query(Long.class).single();
    }

    void runAll(Instant now) {
        for (HousekeepingTask t : List.of(finishedJobs, history, idempotency, receipts, deliveries)) t.run(now);
    }

    @Test
    void eachTaskRemovesWhatIsPastItsRetentionAndNothingElse() throws Exception {
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", x -> {
            x.getRequestBody().readAllBytes();
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        receiver.start();
        try {
            String key = "retention-" + UUID.randomUUID();
            String body = "{\"model\":\"sandbox-image\",\"prompt\":\"kept a while\",\"params\":{\"width\":64,\"height\":64},"
                    + "\"webhook\":{\"url\":\"http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook\"}}";
            Http.Answer first = http.post("/v1/jobs", body, Map.of("Idempotency-Key", key));
            String job = first.json().get("id").asString();
            JsonNode done = awaitJob(job, Duration.ofSeconds(30));
            assertThat(done.get("status").asString()).isEqualTo("succeeded");
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    count("SELECT COUNT(*) FROM outbox WHERE job_id = ? AND delivered_at IS NOT NULL", job) == 1);
            Asset output = assets.find(done.get("outputs").get(0).get("asset_id").asString()).orElseThrow();
            String sha = output.sha256();
            assertThat(assets.store().stat(sha)).as("the output file").isPresent();

            Http.Answer run = http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"a\",\"b\"],\"params\":{\"width\":64,\"height\":64}}");
            assertThat(run.status()).as(run.toString()).isEqualTo(202);
            String runId = run.json().get("id").asString();
            await().atMost(Duration.ofSeconds(30)).until(() -> !http.get("/v1/runs/" + runId).json().get("status").asString().equals("running"));

            String running = submitJob("{\"model\":\"test-runpod-webhook\",\"prompt\":\"still running\"}");
            await().atMost(Duration.ofSeconds(15)).until(() -> http.get("/v1/jobs/" + running).json().get("status").asString().equals("running"));
            Instant now = clock.instant();
            jdbc.sql("INSERT INTO webhook_receipts (provider, delivery_id, job_id, received_at, expires_at) VALUES (?, ?, ?, ?, ?)")
                    .params("runpod", "f".repeat(64), running, ts(now), ts(now.plus(Duration.ofHours(1)))).update();

            // Today: nothing is old enough.
            housekeeping.runOnce();
            assertThat(http.get("/v1/jobs/" + job).status()).isEqualTo(200);
            assertThat(count("SELECT COUNT(*) FROM job_history WHERE job_id = ?", job)).isGreaterThan(1);

            // In 45 minutes: the history of finished jobs is gone (0.5h), the jobs are still there (1h).
            runAll(now.plus(Duration.ofMinutes(45)));
            assertThat(count("SELECT COUNT(*) FROM job_history WHERE job_id = ?", job)).isZero();
            assertThat(http.get("/v1/jobs/" + job + "/history").json()).isEmpty();
            assertThat(count("SELECT COUNT(*) FROM job_history WHERE job_id = ?", running)).isGreaterThan(0);
            assertThat(http.get("/v1/jobs/" + job).status()).isEqualTo(200);
            assertThat(count("SELECT COUNT(*) FROM idempotency WHERE idem_key = ?", key)).isEqualTo(1);
            assertThat(count("SELECT COUNT(*) FROM webhook_receipts WHERE job_id = ?", running)).isEqualTo(1);

            // In two hours: finished jobs, their outputs and deliveries, the emptied run, the idempotency
            // record and the webhook id are gone; the running job is untouched.
            runAll(now.plus(Duration.ofHours(2)));
            assertThat(http.get("/v1/jobs/" + job).status()).isEqualTo(404);
            assertThat(assets.find(output.id())).isEmpty();
            assertThat(assets.store().stat(sha)).as("the output file").isEmpty();
            assertThat(count("SELECT COUNT(*) FROM outbox WHERE job_id = ?", job)).isZero();
            assertThat(http.get("/v1/runs/" + runId).status()).isEqualTo(404);
            assertThat(count("SELECT COUNT(*) FROM idempotency WHERE idem_key = ?", key)).isZero();
            assertThat(count("SELECT COUNT(*) FROM webhook_receipts WHERE job_id = ?", running)).isZero();
            assertThat(http.get("/v1/jobs/" + running).status()).isEqualTo(200);
            assertThat(count("SELECT COUNT(*) FROM job_history WHERE job_id = ?", running)).isGreaterThan(0);

            // The key is free again: the same request makes a new job.
            Http.Answer again = http.post("/v1/jobs", body, Map.of("Idempotency-Key", key));
            assertThat(again.status()).isEqualTo(202);
            assertThat(again.json().get("id").asString()).isNotEqualTo(job);
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    void deliveriesThatAreDoneGoAfterTheirOwnRetention() {
        Instant now = clock.instant();
        jdbc.sql("INSERT INTO outbox (job_id, url, receiver, event, payload, next_at, delivered_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                .params("job_gone", "http://127.0.0.1:9/x", "http://127.0.0.1:9", "job.succeeded", "{}", null, ts(now), ts(now)).update();
        jdbc.sql("INSERT INTO outbox (job_id, url, receiver, event, payload, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .params("job_pending", "http://127.0.0.1:9/x", "http://127.0.0.1:9", "job.succeeded", "{}", ts(now.plus(Duration.ofDays(1))), ts(now))
                .update();
        assertThat(deliveries.run(now.plus(Duration.ofMinutes(30)))).isZero();
        assertThat(deliveries.run(now.plus(Duration.ofHours(2)))).isGreaterThanOrEqualTo(1);
        assertThat(count("SELECT COUNT(*) FROM outbox WHERE job_id = 'job_gone'")).isZero();
        assertThat(count("SELECT COUNT(*) FROM outbox WHERE job_id = 'job_pending'")).as("still to be delivered").isEqualTo(1);
        jdbc.sql("DELETE FROM outbox WHERE job_id = 'job_pending'").update();
    }
}

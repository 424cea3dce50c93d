package dev.kiln.archive.airtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.emulator.airtable.AirtableEmulator;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The Airtable archive against the Airtable emulator (which keeps Airtable's limits): the record
 * of a batch-generator run field by field, Airtable's rate rules, an outage and its catch-up.
 * Kiln here has no {@code PUBLIC_BASE_URL}, so files go through Airtable's upload endpoint.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AirtableArchiveTest extends KilnIntegrationTest {
    static final Duration LOCKOUT = Duration.ofSeconds(3);
    static final AirtableEmulator AIRTABLE = AirtableEmulator.start(AirtableEmulator.Config.defaults().withLockout(LOCKOUT));
    static final HttpServer IMAGES = images();

    @DynamicPropertySource
    static void airtable(DynamicPropertyRegistry r) {
        r.add("AIRTABLE_TOKEN", () -> AIRTABLE.config().token());
        r.add("AIRTABLE_BASE_ID", () -> AIRTABLE.config().baseId());
        r.add("AIRTABLE_TABLE", () -> AIRTABLE.config().table());
        r.add("AIRTABLE_API_URL", AIRTABLE::baseUrl);
        r.add("AIRTABLE_CONTENT_URL", AIRTABLE::baseUrl);
        r.add("AIRTABLE_RATE_LIMIT_WAIT", LOCKOUT::toString);
    }

    // The emulator and the image server stay up for the JVM: PostgresAirtableArchiveTest shares them (records are told apart by run id).

    static HttpServer images() {
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            s.createContext("/", ex -> {
                BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
                int tint = ex.getRequestURI().getPath().hashCode();
                for (int x = 0; x < 40; x++) for (int y = 0; y < 30; y++) img.setRGB(x, y, tint ^ (x * 9) << 8 ^ y * 7);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ImageIO.write(img, "png", out);
                ex.getResponseHeaders().set("Content-Type", "image/png");
                ex.sendResponseHeaders(200, out.size());
                ex.getResponseBody().write(out.toByteArray());
                ex.close();
            });
            s.start();
            return s;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String image(String name) {
        return "http://127.0.0.1:" + IMAGES.getAddress().getPort() + "/" + name + ".png";
    }

    static Optional<JsonNode> record(String runId) {
        return AIRTABLE.records().stream().filter(r -> runId.equals(r.path("fields").path("Run ID").asString(null))).findFirst();
    }

    static byte[] download(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray()).body();
    }

    JsonNode awaitArchived(String runId, String status) {
        JsonNode[] last = {null};
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
            last[0] = record(runId).orElse(null);
            // Not the whole backlog: the archive takes every run of the shared context, and other
            // classes leave runs that never end (their records stay pending by design).
            return last[0] != null && status.equals(last[0].path("fields").path("Status").asString()) && written(runId);
        });
        return record(runId).orElseThrow();
    }

    @Test
    @Order(1)
    void aBatchGetsOneParentRecordAtSubmissionAndItIsCompletedFieldByField() throws Exception {
        Instant before = Instant.now();
        Http.Answer a = http.post("/api/batch", "{\"prompt\":\"Cinematic shot of a futuristic city\",\"subjectUrl\":\"" + image("city")
                + "\",\"referenceUrls\":[\"" + image("ref1") + "\",\"" + image("ref2") + "\"],\"width\":512,\"height\":512,\"batchCount\":2}");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        String runId = a.json().path("runId").asString();
        String parentId = a.json().path("parentId").asString(null);
        assertThat(parentId).as("created at submission, as the generator does").isNotNull().startsWith("rec");
        JsonNode early = record(runId).orElseThrow();
        assertThat(early.path("id").asString()).isEqualTo(parentId);
        assertThat(early.path("fields").path("Status").asString()).isEqualTo("processing");

        JsonNode rec = awaitArchived(runId, "completed");
        JsonNode f = rec.path("fields");
        assertThat(rec.path("id").asString()).isEqualTo(parentId);
        assertThat(AIRTABLE.records().stream().filter(r -> runId.equals(r.path("fields").path("Run ID").asString(null)))).hasSize(1);

        JsonNode status = http.get("/status/" + runId).json();
        JsonNode run = http.get("/v1/runs/" + runId).json();
        assertThat(f.path("Prompt").asString()).isEqualTo("Cinematic shot of a futuristic city");
        assertThat(f.path("Run ID").asString()).isEqualTo(runId);
        assertThat(f.path("Model").asString()).isEqualTo("Seedream v4.5");
        assertThat(f.path("Size").asString()).isEqualTo("1920x1920");
        assertThat(f.path("Status").asString()).isEqualTo("completed");
        assertThat(f.path("Request IDs").asString()).isEqualTo(String.join(",", strings(status.path("requestIds"))));
        assertThat(f.path("Request IDs").asString().split(",")).hasSize(2);
        assertThat(f.path("Seen IDs").asString().split(",")).containsExactlyInAnyOrderElementsOf(strings(status.path("requestIds")));
        assertThat(f.has("Failed IDs")).as("empty, so Airtable leaves it out").isFalse();
        assertThat(Instant.parse(f.path("Created At").asString())).isEqualTo(Instant.parse(run.path("created_at").asString()));
        assertThat(Instant.parse(f.path("Created At").asString())).isAfterOrEqualTo(before.minusSeconds(1));
        Instant completed = Instant.parse(f.path("Completed At").asString());
        assertThat(completed).isEqualTo(Instant.parse(run.path("finished_at").asString()));
        assertThat(Instant.parse(f.path("Last Update").asString())).isAfterOrEqualTo(completed);

        // The files: Airtable holds the very bytes Kiln has, subject, references and outputs.
        JsonNode job = run.path("jobs").get(0);
        List<String> inputs = strings(job.path("inputs").path("reference"));
        assertThat(f.path("Subject")).hasSize(1);
        assertThat(download(f.path("Subject").get(0).path("url").asString())).isEqualTo(http.get("/v1/assets/" + inputs.get(0)).body());
        assertThat(f.path("References")).hasSize(2);
        assertThat(download(f.path("References").get(1).path("url").asString())).isEqualTo(http.get("/v1/assets/" + inputs.get(2)).body());
        assertThat(f.path("Output")).hasSize(2);
        List<String> outputs = new ArrayList<>();
        for (JsonNode j : run.path("jobs")) outputs.add(j.path("outputs").get(0).path("url").asString());
        List<byte[]> archived = new ArrayList<>();
        for (JsonNode o : f.path("Output")) {
            assertThat(o.path("id").asString()).startsWith("att");
            assertThat(o.path("type").asString()).isEqualTo(run.path("jobs").get(0).path("outputs").get(0).path("mime").asString());
            archived.add(download(o.path("url").asString()));
        }
        assertThat(archived).usingElementComparator(java.util.Arrays::compare)
                .containsExactlyInAnyOrder(http.get(outputs.get(0)).body(), http.get(outputs.get(1)).body());
        assertThat(f.path("Output URL").asString()).isEqualTo(f.path("Output").get(0).path("url").asString());
    }

    @Test
    @Order(2)
    void everyRunIsArchivedTenRecordsAPerRequestAndNeverFasterThanFiveRequestsASecond() {
        int before = AIRTABLE.requests().size();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            Http.Answer a = http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"p" + i + "\"],\"params\":{\"width\":64,\"height\":64}}");
            assertThat(a.status()).as(a.toString()).isEqualTo(202);
            ids.add(a.json().path("id").asString());
        }
        for (String id : ids) awaitArchived(id, "completed");
        List<AirtableEmulator.Seen> seen = AIRTABLE.requests().subList(before, AIRTABLE.requests().size());
        assertThat(seen).allSatisfy(s -> assertThat(s.status()).as(s.toString()).isEqualTo(200));
        // At most 5 requests in any second.
        for (int i = 5; i < seen.size(); i++) {
            assertThat(Duration.between(seen.get(i - 5).at(), seen.get(i).at())).as("requests %d..%d", i - 5, i)
                    .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        }
    }

    @Test
    @Order(3)
    void afterA429KilnWaitsTheLockoutBeforeItsNextRequest() {
        try {
            int before = AIRTABLE.requests().size();
            // Another client of the base passed its limit: Airtable answers 429 to everyone for the lockout.
            AIRTABLE.lockOut();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Http.Answer a = http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"q" + i + "\"],\"params\":{\"width\":64,\"height\":64}}");
                ids.add(a.json().path("id").asString());
            }
            for (String id : ids) awaitArchived(id, "completed");
            List<AirtableEmulator.Seen> seen = AIRTABLE.requests().subList(before, AIRTABLE.requests().size());
            assertThat(seen).anySatisfy(s -> assertThat(s.status()).isEqualTo(429));
            for (int i = 0; i < seen.size() - 1; i++) {
                if (seen.get(i).status() != 429) continue;
                // Nothing while Airtable asks for quiet, so the lockout is never extended.
                assertThat(Duration.between(seen.get(i).at(), seen.get(i + 1).at())).isGreaterThanOrEqualTo(LOCKOUT.minusMillis(50));
            }
            assertThat(http.get("/v1/admin/archive").json().path("rate_limited").asLong()).isPositive();
            assertThat(seen.stream().filter(s -> s.status() == 429)).as("one refusal, then quiet until the lockout is over").hasSize(1);
        } finally {
            AIRTABLE.limits(5, LOCKOUT);
        }
    }

    @Test
    @Order(4)
    void anOutageNeverFailsAGenerationAndTheBacklogCatchesUp() throws Exception {
        AIRTABLE.down(true);
        String runId;
        List<String> others = new ArrayList<>();
        int before;
        try {
            Http.Answer a = http.post("/api/batch", "{\"prompt\":\"while Airtable is down\",\"subjectUrl\":\"" + image("down")
                    + "\",\"width\":1024,\"height\":1024,\"batchCount\":2}");
            assertThat(a.status()).as(a.toString()).isEqualTo(200);
            runId = a.json().path("runId").asString();
            for (int i = 0; i < 11; i++) {
                others.add(http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"o" + i + "\"],\"params\":{\"width\":64,\"height\":64}}")
                        .json().path("id").asString());
            }
            assertThat(a.json().path("parentId").isNull()).as("no record yet; it is created once Airtable answers").isTrue();
            String id = runId;
            await().atMost(Duration.ofSeconds(90)).until(() -> http.get("/status/" + id).json().path("status").asString().equals("completed"));
            JsonNode backlog = http.get("/v1/admin/archive").json();
            assertThat(backlog.path("enabled").asBoolean()).isTrue();
            assertThat(backlog.path("pending").asInt()).isGreaterThanOrEqualTo(1);
            assertThat(backlog.path("without_record").asInt()).isGreaterThanOrEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> http.get("/v1/admin/archive").json().path("failing").asInt() >= 1);
            assertThat(http.get("/v1/admin/archive").json().path("last_error").asString()).contains("503");
            assertThat(record(runId)).isEmpty();
        } finally {
            before = AIRTABLE.requests().size();
            AIRTABLE.down(false);
        }
        JsonNode rec = awaitArchived(runId, "completed");
        assertThat(rec.path("fields").path("Output")).hasSize(2);
        assertThat(rec.path("fields").path("Prompt").asString()).isEqualTo("while Airtable is down");
        await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/v1/admin/archive").json().path("failing").asInt() == 0);
        for (String id : others) assertThat(awaitArchived(id, "completed").path("fields").path("Size").asString()).isEqualTo("64x64");
        // The twelve waiting records were created at most ten per request (Airtable refuses more), so in fewer requests than records.
        String table = "/v0/" + AIRTABLE.config().baseId() + "/" + AIRTABLE.config().table();
        long creates = AIRTABLE.requests().subList(before, AIRTABLE.requests().size()).stream()
                .filter(s -> s.method().equals("POST") && s.path().equals(table) && s.status() == 200).count();
        assertThat(creates).isBetween(2L, 11L);
        assertThat(AIRTABLE.requests().subList(before, AIRTABLE.requests().size())).noneSatisfy(s -> assertThat(s.status()).isEqualTo(422));
    }

    static List<String> strings(JsonNode arr) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : arr) out.add(n.asString());
        return out;
    }

    @org.springframework.beans.factory.annotation.Autowired
    org.springframework.jdbc.core.simple.JdbcClient archiveRows;

    /** The archive has written everything it knows of this run (its outbox row is done). */
    boolean written(String runId) {
        return archiveRows.sql("SELECT done FROM airtable_archive WHERE run_id = ?").param(runId).query(Boolean.class)
                .optional().orElse(false);
    }
}

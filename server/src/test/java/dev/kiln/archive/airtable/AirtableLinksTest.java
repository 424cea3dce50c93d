package dev.kiln.archive.airtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.airtable.AirtableEmulator;
import dev.kiln.testing.Http;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * With {@code PUBLIC_BASE_URL}, as the batch generator is deployed: WaveSpeed calls back on
 * {@code /webhooks/wavespeed}, and the Airtable record's attachments are signed links to Kiln's
 * copies, which Airtable (the emulator) fetches itself — nothing goes through the upload endpoint.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT, properties = {
        "kiln.sandbox-latency=400ms", "kiln.allow-private-urls=true"})
class AirtableLinksTest {
    static final int PORT;
    static final AirtableEmulator AIRTABLE = AirtableEmulator.start(AirtableEmulator.Config.defaults());

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
        r.add("kiln.data-dir", Files.createTempDirectory("kiln-airtable-links")::toString);
        r.add("AIRTABLE_TOKEN", () -> AIRTABLE.config().token());
        r.add("AIRTABLE_BASE_ID", () -> AIRTABLE.config().baseId());
        r.add("AIRTABLE_TABLE", () -> AIRTABLE.config().table());
        r.add("AIRTABLE_API_URL", AIRTABLE::baseUrl);
        r.add("AIRTABLE_CONTENT_URL", AIRTABLE::baseUrl);
    }

    Http http;

    @BeforeEach
    void client() {
        http = new Http("http://127.0.0.1:" + PORT);
    }

    @AfterAll
    static void stop() {
        AIRTABLE.close();
    }

    double webhooks(String provider) {
        double n = 0;
        Matcher m = Pattern.compile("kiln_webhooks_total\\{([^}]*)} ([0-9.]+)").matcher(http.get("/metrics").text());
        while (m.find()) {
            if (m.group(1).contains("provider=\"" + provider + "\"") && !m.group(1).contains("outcome=\"rejected\"")) {
                n += Double.parseDouble(m.group(2));
            }
        }
        return n;
    }

    @Test
    void aBatchIsArchivedWithSignedLinksThatAirtableFetchesAndWaveSpeedCallsBack() {
        // The subject is an image Kiln already has (a data URI it stores), so the test needs no image server.
        String subject = "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(png());
        double before = webhooks("wavespeed") + webhooks("sandbox");
        Http.Answer a = http.post("/api/batch", "{\"prompt\":\"linked\",\"subjectUrl\":\"" + subject
                + "\",\"referenceUrls\":[],\"width\":2048,\"height\":2048,\"batchCount\":2}");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        String runId = a.json().path("runId").asString();
        assertThat(a.json().path("parentId").asString()).startsWith("rec");
        assertThat(a.json().path("size").asString()).isEqualTo("2048x2048");

        JsonNode[] rec = {null};
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
            rec[0] = AIRTABLE.records().stream().filter(r -> runId.equals(r.path("fields").path("Run ID").asString(null))).findFirst().orElse(null);
            // This run's record, not the whole backlog: other classes leave runs that never end.
            return rec[0] != null && rec[0].path("fields").path("Status").asString().equals("completed") && written(runId);
        });
        JsonNode f = rec[0].path("fields");
        assertThat(f.path("Size").asString()).isEqualTo("2048x2048");
        JsonNode run = http.get("/v1/runs/" + runId).json();
        List<byte[]> kiln = new ArrayList<>();
        for (JsonNode j : run.path("jobs")) kiln.add(http.get(j.path("outputs").get(0).path("url").asString()).body());
        assertThat(f.path("Output")).hasSize(2);
        List<byte[]> fetched = new ArrayList<>();
        for (JsonNode o : f.path("Output")) fetched.add(AIRTABLE.attachmentBytes(o.path("id").asString()));
        assertThat(fetched).as("Airtable fetched the signed links").doesNotContainNull();
        assertThat(fetched).usingElementComparator(java.util.Arrays::compare).containsExactlyInAnyOrderElementsOf(kiln);
        assertThat(AIRTABLE.attachmentBytes(f.path("Subject").get(0).path("id").asString())).isEqualTo(png());
        assertThat(f.path("Output URL").asString()).startsWith("http://127.0.0.1:" + PORT + "/v1/assets/").contains("sig=");
        assertThat(AIRTABLE.requests()).noneSatisfy(s -> assertThat(s.path()).endsWith("/uploadAttachment"));
        assertThat(http.get("/v1/admin/archive").json().path("attachments").asString()).isEqualTo("signed links");

        // WaveSpeed's webhooks came to /webhooks/wavespeed (the sandbox's WaveSpeed account), verified and taken as hints.
        await().atMost(Duration.ofSeconds(10)).until(() -> webhooks("wavespeed") + webhooks("sandbox") >= before + 2);
    }

    static byte[] png() {
        try {
            var img = new java.awt.image.BufferedImage(32, 32, java.awt.image.BufferedImage.TYPE_INT_RGB);
            for (int x = 0; x < 32; x++) for (int y = 0; y < 32; y++) img.setRGB(x, y, x * 8 << 16 | y * 8);
            var out = new java.io.ByteArrayOutputStream();
            javax.imageio.ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @org.springframework.beans.factory.annotation.Autowired
    org.springframework.jdbc.core.simple.JdbcClient archiveRows;

    /** The archive has written everything it knows of this run (its outbox row is done). */
    boolean written(String runId) {
        return archiveRows.sql("SELECT done FROM airtable_archive WHERE run_id = ?").param(runId).query(Boolean.class)
                .optional().orElse(false);
    }
}

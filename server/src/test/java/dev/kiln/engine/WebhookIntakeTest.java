package dev.kiln.engine;

import dev.kiln.emulator.runpod.RunPodEmulator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.job.WebhookTokens;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Flow;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * {@code /webhooks/{provider}} against hostile callers: unknown providers, wrong tokens with big
 * bodies, replays and bursts. RunPod deliveries are used because RunPod signs nothing: the job
 * token is the whole check, so the test can send genuine ones.
 */
@ExtendWith(OutputCaptureExtension.class)
class WebhookIntakeTest extends KilnIntegrationTest {
    @Autowired
    WebhookTokens tokens;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    Sandbox sandbox;

    final List<String> started = new java.util.ArrayList<>();

    /** Jobs left running would finish during later test classes of the shared context: end them here. */
    @AfterEach
    void endJobs() {
        for (String id : started) {
            http.post("/v1/jobs/" + id + "/cancel", "");
            awaitJob(id, Duration.ofSeconds(30));
        }
    }

    /** A RunPod job that is running and will not be polled for 20 s unless a webhook asks. */
    JsonNode runningJob() {
        String id = submitJob("{\"model\":\"test-runpod-webhook\",\"prompt\":\"hint " + UUID.randomUUID() + "\"}");
        started.add(id);
        JsonNode[] j = {null};
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            j[0] = http.get("/v1/jobs/" + id).json();
            return j[0].get("status").asString().equals("running") && !j[0].get("remote_id").isNull();
        });
        return j[0];
    }

    Http.Answer deliver(JsonNode job, String status) {
        return http.post("/webhooks/runpod?token=" + tokens.forJob(job.get("id").asString()),
                "{\"id\":\"" + job.get("remote_id").asString() + "\",\"status\":\"" + status + "\"}");
    }

    double webhooks(String outcome) {
        Matcher m = Pattern.compile("kiln_webhooks_total\\{[^}]*outcome=\"" + outcome + "\"[^}]*provider=\"runpod\"[^}]*} ([0-9.]+)")
                .matcher(http.get("/metrics").text());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void anUnknownProviderIs404WithoutAMetricSeriesOrALogLine(CapturedOutput output) {
        String name = "nosuch" + UUID.randomUUID().toString().substring(0, 8);
        Http.Answer a = http.post("/webhooks/" + name + "?token=abc", "{}");
        assertThat(a.status()).isEqualTo(404);
        assertThat(a.json().get("code").asString()).isEqualTo("not_found");
        assertThat(a.text()).doesNotContain(name);
        Http.Answer forged = http.post("/webhooks/x%0AINFO%20forged-" + name, "{}");
        assertThat(forged.status()).as("404, or 400 if Tomcat refuses the encoded newline itself").isIn(400, 404);
        assertThat(http.get("/metrics").text()).doesNotContain(name);
        assertThat(output.getAll()).doesNotContain(name);
    }

    @Test
    void theTokenIsCheckedBeforeTheBodyIsRead() throws IOException {
        // Headers announce 2 MB but only a few bytes follow: an answer can only come if nothing waits for the rest.
        String wrong = rawPost("/webhooks/runpod?token=" + "x".repeat(43), 2_000_000, "{\"id\":");
        assertThat(wrong).startsWith("HTTP/1.1 401").contains("application/problem+json");

        JsonNode job = runningJob();
        String tooLarge = rawPost("/webhooks/runpod?token=" + tokens.forJob(job.get("id").asString()), 2_000_000, "{\"id\":");
        assertThat(tooLarge).startsWith("HTTP/1.1 413").contains("KILN_WEBHOOK_MAX_BODY");

        // Without a Content-Length the body is read up to the limit, and no further.
        Http.Answer chunked = http.send(HttpRequest.newBuilder(http.uri("/webhooks/runpod?token=" + tokens.forJob(job.get("id").asString())))
                .POST(HttpRequest.BodyPublishers.fromPublisher(repeat(64 * 1024, 40))).header("Content-Type", "application/json").build());
        assertThat(chunked.status()).isEqualTo(413);
        assertThat(chunked.json().get("code").asString()).isEqualTo("too_large");

        assertThat(deliver(job, "IN_PROGRESS").status()).isEqualTo(200);
    }

    @Test
    void aReplayedDeliveryIsIgnoredAndRememberedInTheDatabase() {
        JsonNode job = runningJob();
        double duplicates = webhooks("duplicate");
        Http.Answer first = deliver(job, "IN_PROGRESS");
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.json().get("status").asString()).isEqualTo("accepted");
        Http.Answer replay = deliver(job, "IN_PROGRESS");
        assertThat(replay.status()).isEqualTo(200);
        assertThat(replay.json().get("status").asString()).isEqualTo("ignored");
        assertThat(replay.json().get("reason").asString()).contains("received before");
        assertThat(webhooks("duplicate")).isEqualTo(duplicates + 1);
        List<String> stored = jdbc.sql("SELECT delivery_id FROM webhook_receipts WHERE provider = 'runpod' AND job_id = ? AND expires_at > ?")
                .params(job.get("id").asString(), java.sql.Timestamp.from(java.time.Instant.now().plus(Duration.ofHours(23))))
                .query(String.class).list();
        assertThat(stored).hasSize(1);
    }

    @Test
    void aBurstOfHintsForOneJobMakesOnePollNow() {
        // The job stays IN_PROGRESS at the emulator, so it is still running for every hint of the burst
        // however slowly this machine runs the test (with the sandbox's 300 ms it could finish first).
        sandbox.emulator(RunPodEmulator.class).faults().neverComplete(1);
        JsonNode job = runningJob();
        double accepted = webhooks("accepted");
        double coalesced = webhooks("coalesced");
        // The polls the hints cause fail for a while too.
        sandbox.emulator(RunPodEmulator.class).faults().failStatus(3);
        try {
            for (String status : List.of("IN_QUEUE", "IN_PROGRESS", "CANCELLED", "TIMED_OUT")) {
                Http.Answer a = deliver(job, status);
                assertThat(a.status()).as(a.toString()).isEqualTo(200);
                assertThat(a.json().get("status").asString()).as(a.toString()).isEqualTo("accepted");
            }
        } finally {
            sandbox.emulator(RunPodEmulator.class).faults().reset();
        }
        assertThat(webhooks("accepted")).isEqualTo(accepted + 1);
        assertThat(webhooks("coalesced")).isEqualTo(coalesced + 3);
        // The polls the hints caused found the job still running; it stays so (ended by endJobs).
        assertThat(http.get("/v1/jobs/" + job.get("id").asString()).json().get("status").asString()).isEqualTo("running");
    }

    private String rawPost(String path, int contentLength, String partialBody) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + contentLength
                    + "\r\n\r\n" + partialBody).getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            StringBuilder answer = new StringBuilder();
            int n;
            // Read the status line, headers and the small problem body; the server then waits or closes.
            while ((n = in.read(buf)) > 0) {
                answer.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                if (answer.indexOf("}") > 0) break;
            }
            return answer.toString();
        }
    }

    /** A body of {@code chunks} × {@code size} bytes, sent without a Content-Length. */
    static Flow.Publisher<ByteBuffer> repeat(int size, int chunks) {
        return HttpRequest.BodyPublishers.ofInputStream(() -> new InputStream() {
            long left = (long) size * chunks;

            @Override
            public int read() {
                return left-- > 0 ? 'x' : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) return -1;
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 'x');
                left -= n;
                return n;
            }
        });
    }
}

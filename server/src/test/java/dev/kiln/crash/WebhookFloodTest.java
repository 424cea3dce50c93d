package dev.kiln.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.account.AccountFixtures;
import dev.kiln.job.WebhookTokens;
import dev.kiln.support.SecretBox;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Twenty concurrent 60 MB bodies to {@code /webhooks/{provider}} — with wrong and with right job
 * tokens, with a Content-Length and chunked — against a Kiln child process with a 384 MB heap.
 * Before, each body was read whole into memory before the token was looked at; now the token is
 * checked first and at most KILN_WEBHOOK_MAX_BODY (1 MB) is read. The server must stay healthy,
 * without an OutOfMemoryError, and go on running jobs. The child is configured with
 * {@code KILN_SANDBOX_LATENCY=0.5s}, a decimal duration that used to stop Kiln at start.
 */
class WebhookFloodTest {
    static final String KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    static final long SIXTY_MB = 60L * 1024 * 1024;

    @TempDir Path dir;
    KilnProcess kiln;

    @AfterEach
    void stop() {
        if (kiln != null) kiln.close();
    }

    @Test
    void twentyConcurrentSixtyMegabyteBodiesLeaveTheServerHealthy() throws Exception {
        Path log = dir.resolve("kiln.log");
        kiln = KilnProcess.start(KilnProcess.freePort(), Map.of("KILN_DATA_DIR", dir.resolve("data").toString(),
                "KILN_SANDBOX_LATENCY", "0.5s", "KILN_SECRET_KEY", KEY), log, Duration.ofSeconds(90));

        // A real job, so half of the deliveries carry a token that checks out.
        String job = kiln.http.post("/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"flood\",\"params\":{\"width\":64,\"height\":64}}")
                .json().get("id").asString();
        String goodToken = new WebhookTokens(new SecretBox(AccountFixtures.props(dir))).forJob(job);
        // Finished, the job has its account, so a delivery with its token gets as far as reading the body.
        await().atMost(Duration.ofSeconds(60)).until(() -> kiln.http.get("/v1/jobs/" + job).json().get("status").asString().equals("succeeded"));

        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        Map<String, String> outcomes = new ConcurrentHashMap<>();
        List<CompletableFuture<?>> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String token = i % 2 == 0 ? goodToken : "forged" + i;
            boolean withLength = i % 4 < 2;
            HttpRequest.BodyPublisher body = withLength
                    ? HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> zeros(SIXTY_MB)), SIXTY_MB)
                    : HttpRequest.BodyPublishers.ofInputStream(() -> zeros(SIXTY_MB));
            HttpRequest req = HttpRequest.newBuilder(kiln.http.uri("/webhooks/sandbox?token=" + token)).timeout(Duration.ofSeconds(120))
                    .header("Content-Type", "application/json").POST(body).build();
            String name = "#" + i + (i % 2 == 0 ? " right token" : " wrong token") + (withLength ? ", Content-Length" : ", chunked");
            sent.add(client.sendAsync(req, HttpResponse.BodyHandlers.ofString())
                    .handle((r, e) -> outcomes.put(name, e == null ? Integer.toString(r.statusCode()) : "closed: " + e.getClass().getSimpleName())));
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(3, TimeUnit.MINUTES);

        assertThat(outcomes).hasSize(20);
        // Every answer that came is a refusal: 401 for a wrong token, 413 for a body over the limit.
        outcomes.forEach((name, outcome) -> assertThat(outcome).as(name).matches("401|413|closed: .*"));
        assertThat(kiln.http.get("/health").status()).isEqualTo(200);
        String output = Files.readString(log);
        assertThat(output).doesNotContain("OutOfMemoryError");

        // And it still works.
        String after = kiln.http.post("/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"after\",\"params\":{\"width\":64,\"height\":64}}")
                .json().get("id").asString();
        JsonNode[] j = {null};
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            j[0] = kiln.http.get("/v1/jobs/" + after).json();
            return j[0].get("status").asString().equals("succeeded");
        });
        System.out.println("webhook flood outcomes: " + new java.util.TreeMap<>(outcomes) + "; child " + rss(kiln.pid()));
    }

    /** {@code n} bytes of '0', generated as they are read. */
    static InputStream zeros(long n) {
        return new InputStream() {
            long left = n;

            @Override
            public int read() {
                return left-- > 0 ? '0' : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) return -1;
                int k = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + k, (byte) '0');
                left -= k;
                return k;
            }
        };
    }

    static String rss(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmHWM") || l.startsWith("VmRSS"))
                    .map(l -> l.replaceAll("\\s+", " ")).reduce((a, b) -> a + ", " + b).orElse("");
        } catch (java.io.IOException e) {
            return "(no /proc)";
        }
    }
}

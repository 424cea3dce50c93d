package dev.kiln.provider.wavespeed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.emulator.wavespeed.WaveSpeedEmulator;
import dev.kiln.provider.Download;
import dev.kiln.provider.Health;
import dev.kiln.provider.InputImage;
import dev.kiln.provider.OutputRef;
import dev.kiln.provider.PollPolicy;
import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.ProviderException;
import dev.kiln.provider.ProviderHttp;
import dev.kiln.provider.Reconciliation;
import dev.kiln.provider.RemoteRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.provider.WebhookNotice;
import dev.kiln.provider.WebhookRejected;
import dev.kiln.support.Json;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The adapter against the emulator over real HTTP: no mocks anywhere. */
class WaveSpeedProviderTest {
    private static final String KEY = "ws-test-key";
    private static final String SECRET = "whsec_test-secret-123";
    private static final int WARM = Integer.getInteger("warm", 50);

    private final ProviderHttp http = new ProviderHttp(Duration.ofSeconds(2));
    private final WaveSpeedProvider provider = new WaveSpeedProvider(http,
            WaveSpeedConfig.defaults("wavespeed").withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5)));
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeables.reversed()) c.close();
    }

    private WaveSpeedEmulator emulator(WaveSpeedEmulator.Config config) {
        WaveSpeedEmulator e = WaveSpeedEmulator.start(config);
        closeables.add(e);
        return e;
    }

    private WaveSpeedEmulator emulator() {
        return emulator(config());
    }

    private static WaveSpeedEmulator.Config config() {
        return WaveSpeedEmulator.Config.defaults().withApiKey(KEY).withWebhookSecret(SECRET)
                .withWebhookRetries(3, Duration.ofMillis(50));
    }

    private static ProviderAccount account(WaveSpeedEmulator e) {
        return new ProviderAccount("acc-1", "wavespeed", "test", e.baseUrl(), KEY, Map.of(), false);
    }

    private static final String TXT2IMG = """
            {"prompt":"${prompt}","size":"${width}*${height}","seed":"${seed}","output_format":"${output_format}",
             "enable_base64_output":false,"enable_sync_mode":false}""";

    private static SubmitRequest request(String prompt, long seed) {
        return request("kiln/sandbox-image", TXT2IMG, prompt, seed, "png", Map.of(), null);
    }

    private static SubmitRequest request(String remote, String template, String prompt, long seed, String format,
                                         Map<String, List<InputImage>> images, String webhook) {
        Map<String, Object> values = new HashMap<>();
        values.put("prompt", prompt);
        values.put("width", 64);
        values.put("height", 48);
        values.put("seed", seed);
        values.put("output_format", format);
        return new SubmitRequest("job_1", 1, "sandbox-image", images.isEmpty() ? "txt2img" : "img2img", "image", remote,
                Json.parse(template), values, images, webhook, Instant.now().plusSeconds(600), Duration.ofSeconds(2));
    }

    private static BufferedImage decode(Download d) throws IOException {
        try (d; InputStream in = d.body()) {
            return ImageIO.read(in);
        }
    }

    private RemoteStatus pollUntilDone(ProviderAccount account, Submitted s) {
        RemoteRef ref = new RemoteRef(s.remoteId(), s.remote());
        RemoteStatus[] last = new RemoteStatus[1];
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
            last[0] = provider.poll(account, ref);
            return !(last[0] instanceof RemoteStatus.Pending);
        });
        return last[0];
    }

    // ---- the happy paths

    @Test
    void submitPollAndDownloadAPng() throws IOException {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);

        Submitted s = provider.submit(account, request("a lighthouse at dusk", 7));

        assertThat(s.remoteId()).matches("[0-9a-f]{32}");
        assertThat(s.status()).isNull();
        assertThat(s.remote().path("get").asString()).isEqualTo(e.baseUrl() + "/api/v3/predictions/" + s.remoteId() + "/result");
        assertThat(e.submissions()).singleElement().satisfies(sub -> {
            assertThat(sub.id()).isEqualTo(s.remoteId());
            assertThat(sub.model()).isEqualTo("kiln/sandbox-image");
            assertThat(sub.input().path("size").asString()).isEqualTo("64*48");
            assertThat(sub.input().path("seed").asLong()).isEqualTo(7);
            assertThat(sub.webhook()).isNull();
        });

        RemoteStatus done = pollUntilDone(account, s);
        assertThat(done).isInstanceOf(RemoteStatus.Succeeded.class);
        List<OutputRef> outputs = ((RemoteStatus.Succeeded) done).outputs();
        assertThat(outputs).singleElement().satisfies(o -> assertThat(o.isInline()).isFalse());

        BufferedImage img = decode(provider.open(account, outputs.getFirst()));
        assertThat(img.getWidth()).isEqualTo(64);
        assertThat(img.getHeight()).isEqualTo(48);
        // The same prompt and seed render the same picture as the renderer does directly.
        BufferedImage direct = ImageIO.read(new ByteArrayInputStream(SandboxRenderer.render("a lighthouse at dusk", 7, 64, 48, "png")));
        assertThat(img.getRGB(0, 0, 64, 48, null, 0, 64)).isEqualTo(direct.getRGB(0, 0, 64, 48, null, 0, 64));
    }

    @Test
    void aSlowTaskIsPendingUntilItsLatencyHasPassed() {
        WaveSpeedEmulator e = emulator(config().withLatency(Duration.ofMillis(400)));
        ProviderAccount account = account(e);
        Submitted s = provider.submit(account, request("slow", 1));

        assertThat(provider.poll(account, new RemoteRef(s.remoteId(), s.remote()))).isInstanceOf(RemoteStatus.Pending.class);
        assertThat(pollUntilDone(account, s)).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    @Test
    void imageToImageUploadsEachInputOnceAndSendsItsUrl() throws IOException {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        byte[] a = SandboxRenderer.render("reference a", 1, 32, 32, "png");
        byte[] b = SandboxRenderer.render("reference b", 2, 32, 32, "jpeg");
        Map<String, List<InputImage>> images = Map.of("reference", List.of(image("asset_a", a, "image/png"),
                image("asset_b", b, "image/jpeg"), image("asset_a", a, "image/png")));
        String template = """
                {"prompt":"${prompt}","size":"${width}*${height}","seed":"${seed}","images":"${images.reference}"}""";

        Submitted s = provider.submit(account, request("kiln/sandbox-image/edit", template, "restyle", 3, "png", images, null));

        JsonNode sent = e.submissions().getFirst().input().path("images");
        assertThat(sent.size()).isEqualTo(3);
        assertThat(sent.get(0).asString()).startsWith(e.baseUrl() + "/media/").isEqualTo(sent.get(2).asString());
        assertThat(fetch(sent.get(0).asString())).isEqualTo(a);
        assertThat(fetch(sent.get(1).asString())).isEqualTo(b);
        assertThat(e.uploads()).as("the SDKs' direct upload: announced, then PUT without the key")
                .extracting(WaveSpeedEmulator.Upload::via).containsExactly("direct", "direct");
        assertThat(pollUntilDone(account, s)).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    @Test
    void withoutDirectUploadsTheOlderBinaryUploadIsUsed() throws IOException {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        byte[] a = SandboxRenderer.render("reference", 1, 24, 24, "png");
        e.faults().refuseDirectUploads(1);
        String template = """
                {"prompt":"${prompt}","size":"${width}*${height}","images":"${images.reference}"}""";

        Submitted s = provider.submit(account, request("kiln/sandbox-image/edit", template, "old server", 3, "png",
                Map.of("reference", List.of(image("asset_a", a, "image/png"))), null));

        assertThat(e.uploads()).extracting(WaveSpeedEmulator.Upload::via).containsExactly("binary");
        assertThat(fetch(e.submissions().getFirst().input().path("images").get(0).asString())).isEqualTo(a);
        assertThat(pollUntilDone(account, s)).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    @Test
    void base64OutputsComeInlineAndNeverAskForAWebhook() throws IOException {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        String template = """
                {"prompt":"${prompt}","size":"${width}*${height}","seed":"${seed}","output_format":"${output_format}",
                 "num_images":2,"enable_base64_output":true}""";

        Submitted s = provider.submit(account, request("kiln/sandbox-image", template, "inline", 5, "webp", Map.of(),
                "https://kiln.example/webhooks/wavespeed"));

        assertThat(e.submissions().getFirst().webhook()).isNull();
        RemoteStatus done = pollUntilDone(account, s);
        List<OutputRef> outputs = ((RemoteStatus.Succeeded) done).outputs();
        assertThat(outputs).hasSize(2).allSatisfy(o -> {
            assertThat(o.isInline()).isTrue();
            assertThat(o.mime()).isEqualTo("image/webp");
            assertThat(o.filename()).endsWith(".webp");
        });
        BufferedImage img = decode(provider.open(account, outputs.get(1)));
        assertThat(img.getWidth()).isEqualTo(64);
        assertThat(img.getHeight()).isEqualTo(48);
    }

    @Test
    void syncModeAnswersWithTheFinalResult() {
        WaveSpeedEmulator e = emulator(config().withLatency(Duration.ofMillis(100)));
        String template = """
                {"prompt":"${prompt}","size":"${width}*${height}","seed":"${seed}","enable_sync_mode":true}""";
        Submitted s = provider.submit(account(e), request("kiln/sandbox-image", template, "sync", 9, "png", Map.of(), null));
        assertThat(s.status()).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    @Test
    void theWebhookUrlGoesInTheQuery() {
        WaveSpeedEmulator e = emulator();
        String hook = "http://127.0.0.1:9/webhooks/wavespeed?token=a&b=c";
        provider.submit(account(e), request("kiln/sandbox-image", TXT2IMG, "hooked", 1, "png", Map.of(), hook));
        assertThat(e.submissions().getFirst().webhook()).isEqualTo(hook);
    }

    // ---- submit faults

    @Test
    void rateLimitedSubmitIsRateLimitedWithItsRetryAfterAndCreatesNothing() {
        WaveSpeedEmulator e = emulator();
        e.faults().rateLimitSubmits(1, Duration.ofSeconds(3));

        assertThatThrownBy(() -> provider.submit(account(e), request("busy", 1)))
                .isInstanceOfSatisfying(ProviderException.RateLimited.class,
                        ex -> assertThat(ex.retryAfter()).isEqualTo(Duration.ofSeconds(3)));
        assertThat(e.submissions()).isEmpty();
        assertThat(provider.reconcile(account(e), request("busy", 1), Instant.now().minusSeconds(1)))
                .isInstanceOf(Reconciliation.NotFound.class);
    }

    @Test
    void serverErrorOnSubmitIsUnavailable() {
        WaveSpeedEmulator e = emulator();
        e.faults().failSubmits(1);
        assertThatThrownBy(() -> provider.submit(account(e), request("boom", 1)))
                .isInstanceOfSatisfying(ProviderException.Unavailable.class, ex -> assertThat(ex.httpStatus()).isEqualTo(500));
        assertThat(e.submissions()).isEmpty();
    }

    @Test
    void aLostSubmitIsNeverReportedAsNotReceivedWhileItsTaskIsListed() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        e.faults().dropSubmitsAfterAccepting(1);
        Instant intent = Instant.now();
        SubmitRequest req = request("lost answer", 11);

        assertThatThrownBy(() -> provider.submit(account, req)).isInstanceOf(ProviderException.Ambiguous.class);
        assertThat(e.submissions()).hasSize(1);

        // WaveSpeed's list shows no inputs: the task cannot be recognised, only not ruled out.
        Reconciliation r = provider.reconcile(account, req, intent);
        assertThat(r).isNotInstanceOf(Reconciliation.NotFound.class);
        assertThat(r).isInstanceOfSatisfying(Reconciliation.Unconfirmed.class,
                u -> assertThat(u.remoteIds()).containsExactly(e.submissions().getFirst().id()));
        assertThat(e.submissions()).as("reconciling never submits").hasSize(1);
    }

    @Test
    void anUnreadableSubmitAnswerIsAmbiguousAndNotReportedAsNotReceived() {
        WaveSpeedEmulator e = emulator();
        e.faults().malformSubmitAnswers(1);
        Instant intent = Instant.now();
        assertThatThrownBy(() -> provider.submit(account(e), request("garbled", 2))).isInstanceOf(ProviderException.Ambiguous.class);
        assertThat(provider.reconcile(account(e), request("garbled", 2), intent)).isInstanceOf(Reconciliation.Unconfirmed.class);
    }

    @Test
    void submitTimeoutIsAmbiguous() {
        WaveSpeedEmulator e = emulator();
        WaveSpeedProvider impatient = new WaveSpeedProvider(http,
                WaveSpeedConfig.defaults("wavespeed").withTimeouts(Duration.ofMillis(200), Duration.ofSeconds(5)));
        e.faults().delayRequests(1, Duration.ofSeconds(2));
        assertThatThrownBy(() -> impatient.submit(account(e), request("too slow", 1))).isInstanceOf(ProviderException.Ambiguous.class);
    }

    @Test
    void notReceivedOnlyWhenNoPredictionOfTheModelWasCreatedSinceTheIntent() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        Instant before = Instant.now();
        String other = provider.submit(account, request("kiln/sandbox-image/other", TXT2IMG, "another model", 1, "png", Map.of(), null))
                .remoteId();
        e.faults().loseSubmitsBeforeAccepting(1);
        assertThatThrownBy(() -> provider.submit(account, request("mine", 2))).isInstanceOf(ProviderException.Ambiguous.class);

        assertThat(e.submissions()).extracting(WaveSpeedEmulator.Submission::id).containsExactly(other);
        assertThat(provider.reconcile(account, request("mine", 2), before)).isInstanceOf(Reconciliation.NotFound.class);

        String same = provider.submit(account, request("someone else's prompt", 3)).remoteId();
        assertThat(provider.reconcile(account, request("mine", 2), before)).isInstanceOfSatisfying(Reconciliation.Unconfirmed.class,
                u -> assertThat(u.remoteIds()).containsExactly(same));
    }

    @Test
    void reconcileAsksAgainLaterWhenTheListCannotBeRead() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount wrongKey = new ProviderAccount("acc-1", "wavespeed", "test", e.baseUrl(), "nope", Map.of(), false);
        assertThat(provider.reconcile(wrongKey, request("x", 1), Instant.now())).isInstanceOf(Reconciliation.NotYet.class);
        e.faults().failListings(1);
        assertThat(provider.reconcile(account(e), request("x", 1), Instant.now())).isInstanceOf(Reconciliation.NotYet.class);
        assertThat(provider.reconcile(account(e), request("x", 1), Instant.now())).isInstanceOf(Reconciliation.NotFound.class);
    }

    @Test
    void badInputIsRejectedWithWaveSpeedsMessage() {
        WaveSpeedEmulator e = emulator();
        String template = """
                {"prompt":"${prompt}","size":"${width}x${height}"}""";
        assertThatThrownBy(() -> provider.submit(account(e), request("kiln/sandbox-image", template, "x", 1, "png", Map.of(), null)))
                .isInstanceOfSatisfying(ProviderException.Rejected.class, ex -> {
                    assertThat(ex.httpStatus()).isEqualTo(400);
                    assertThat(ex.getMessage()).contains("size must be");
                });
    }

    @Test
    void wrongKeyIsAuthFailedAndHealthSaysSo() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount wrongKey = new ProviderAccount("acc-1", "wavespeed", "test", e.baseUrl(), "nope", Map.of(), false);
        assertThatThrownBy(() -> provider.submit(wrongKey, request("x", 1))).isInstanceOf(ProviderException.AuthFailed.class);
        Health bad = provider.health(wrongKey);
        assertThat(bad.ok()).isFalse();
        assertThat(bad.message()).contains("key refused");
        Health good = provider.health(account(e));
        assertThat(good.ok()).isTrue();
        assertThat(good.message()).contains("balance 100");
    }

    @Test
    void unreachableProviderIsUnavailableBeforeAnythingWasSent() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        e.close();
        assertThatThrownBy(() -> provider.submit(account, request("x", 1))).isInstanceOf(ProviderException.Unavailable.class);
        assertThat(provider.health(account).ok()).isFalse();
    }

    // ---- poll faults and task outcomes

    @Test
    void pollFaultsMapToUnavailableRateLimitedAndNotFound() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        Submitted s = provider.submit(account, request("polls", 1));
        RemoteRef ref = new RemoteRef(s.remoteId(), s.remote());

        e.faults().failPolls(1);
        assertThatThrownBy(() -> provider.poll(account, ref)).isInstanceOf(ProviderException.Unavailable.class);
        e.faults().rateLimitPolls(1, Duration.ofSeconds(2));
        assertThatThrownBy(() -> provider.poll(account, ref)).isInstanceOfSatisfying(ProviderException.RateLimited.class,
                ex -> assertThat(ex.retryAfter()).isEqualTo(Duration.ofSeconds(2)));
        assertThat(provider.poll(account, ref)).isInstanceOf(RemoteStatus.Succeeded.class);
        assertThatThrownBy(() -> provider.poll(account, new RemoteRef("0123456789abcdef0123456789abcdef", null)))
                .isInstanceOf(ProviderException.NotFound.class);
    }

    @Test
    void failedTasksAreRetryableOnlyForWaveSpeedsOwnFaultsJudgedByTheirErrorText() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        e.faults().failPredictions(1, 5003, "service temporarily unavailable");
        RemoteStatus unavailable = pollUntilDone(account, provider.submit(account, request("a", 1)));
        e.faults().failPredictions(1, 1403, "task execution failed");
        RemoteStatus refused = pollUntilDone(account, provider.submit(account, request("b", 1)));

        assertThat(unavailable).isEqualTo(new RemoteStatus.Failed("wavespeed_failed", "service temporarily unavailable", true));
        assertThat(refused).isEqualTo(new RemoteStatus.Failed("wavespeed_failed", "task execution failed", false));
    }

    @Test
    void theFailRateFailsSomeTasksWithDocumentedCodes() {
        WaveSpeedEmulator e = emulator(config().withFailRate(0.5).withRandomSeed(42));
        ProviderAccount account = account(e);
        int failed = 0;
        for (int i = 0; i < 40; i++) {
            RemoteStatus s = pollUntilDone(account, provider.submit(account, request("rate " + i, i)));
            if (s instanceof RemoteStatus.Failed f) {
                failed++;
                assertThat(f.code()).isEqualTo("wavespeed_failed");
                assertThat(f.message()).isIn("task execution failed", "internal server error", "service temporarily unavailable");
            } else {
                assertThat(s).isInstanceOf(RemoteStatus.Succeeded.class);
            }
        }
        assertThat(failed).isBetween(8, 32);
    }

    @Test
    void aTaskThatNeverCompletesStaysPendingAndCanBeCancelled() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        e.faults().neverComplete(1);
        Submitted s = provider.submit(account, request("forever", 1));
        RemoteRef ref = new RemoteRef(s.remoteId(), s.remote());
        assertThat(provider.poll(account, ref)).isInstanceOf(RemoteStatus.Pending.class);

        provider.cancel(account, ref);

        assertThat(provider.poll(account, ref)).isInstanceOf(RemoteStatus.Canceled.class);
        assertThat(e.status(s.remoteId())).isEqualTo("cancelled");
    }

    @Test
    void cancellingAFinishedOrUnknownTaskIsNotAnError() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        Submitted s = provider.submit(account, request("done", 1));
        RemoteRef ref = new RemoteRef(s.remoteId(), s.remote());
        assertThat(pollUntilDone(account, s)).isInstanceOf(RemoteStatus.Succeeded.class);

        provider.cancel(account, ref);
        provider.cancel(account, new RemoteRef("ffffffffffffffffffffffffffffffff", null));

        assertThat(provider.poll(account, ref)).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    @Test
    void expiredOutputIsNotFound() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        RemoteStatus done = pollUntilDone(account, provider.submit(account, request("gone", 1)));
        e.faults().expireOutputs(1);
        OutputRef out = ((RemoteStatus.Succeeded) done).outputs().getFirst();
        assertThatThrownBy(() -> provider.open(account, out)).isInstanceOf(ProviderException.NotFound.class);
    }

    // ---- webhooks

    @Test
    void verifiesAGoodSignatureWithTheConfiguredSecret() {
        ProviderAccount account = new ProviderAccount("acc-1", "wavespeed", "test", "http://127.0.0.1:9", KEY,
                Map.of("webhook_secret", SECRET), false);
        byte[] body = "{\"id\":\"abc123\",\"status\":\"completed\"}".getBytes(StandardCharsets.UTF_8);
        Instant now = Instant.now();

        WebhookNotice n = provider.verifyWebhook(account, delivery("msg_1", now.getEpochSecond(), sign(SECRET, "msg_1", now.getEpochSecond(), body), body, now));

        assertThat(n).isEqualTo(new WebhookNotice("abc123", "msg_1"));
    }

    @Test
    void rejectsForgedStaleWrongSecretAndIncompleteWebhooks() {
        ProviderAccount account = new ProviderAccount("acc-1", "wavespeed", "test", "http://127.0.0.1:9", KEY,
                Map.of("webhook_secret", SECRET), false);
        byte[] body = "{\"id\":\"abc123\",\"status\":\"completed\"}".getBytes(StandardCharsets.UTF_8);
        long now = Instant.now().getEpochSecond();
        String good = sign(SECRET, "msg_1", now, body);

        byte[] tampered = "{\"id\":\"other\",\"status\":\"completed\"}".getBytes(StandardCharsets.UTF_8);
        assertRejected(account, delivery("msg_1", now, good, tampered, Instant.now()), "signature");
        assertRejected(account, delivery("msg_2", now, good, body, Instant.now()), "signature");
        assertRejected(account, delivery("msg_1", now, sign("whsec_other", "msg_1", now, body), body, Instant.now()), "signature");
        // The key is the secret's text, not its base64 decoding (the Svix convention).
        assertRejected(account, delivery("msg_1", now, "v1," + HexFormat.of().formatHex(new byte[32]), body, Instant.now()), "signature");
        long stale = now - 400;
        assertRejected(account, delivery("msg_1", stale, sign(SECRET, "msg_1", stale, body), body, Instant.now()), "timestamp");
        assertRejected(account, new WebhookDelivery(Map.of("webhook-id", List.of("msg_1")), body, Instant.now()), "missing");
        byte[] noId = "{\"status\":\"completed\"}".getBytes(StandardCharsets.UTF_8);
        assertRejected(account, delivery("msg_1", now, sign(SECRET, "msg_1", now, noId), noId, Instant.now()), "id");
    }

    @Test
    void acceptsAnyOfSeveralSignaturesAndFetchesTheSecretWhenNoneIsConfigured() {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e); // no webhook_secret: fetched from /api/v3/webhook/secret
        byte[] body = "{\"id\":\"p1\"}".getBytes(StandardCharsets.UTF_8);
        long now = Instant.now().getEpochSecond();
        String header = sign("whsec_rotated-old", "m", now, body) + " " + sign(SECRET, "m", now, body);
        assertThat(provider.verifyWebhook(account, delivery("m", now, header, body, Instant.now())).remoteId()).isEqualTo("p1");
    }

    @Test
    void theEmulatorDeliversASignedWebhookThatVerifies() throws Exception {
        WaveSpeedEmulator e = emulator(config().withLatency(Duration.ofMillis(50)));
        Receiver receiver = receiver(0);
        ProviderAccount account = account(e);

        Submitted s = provider.submit(account, request("kiln/sandbox-image", TXT2IMG, "hook me", 1, "png", Map.of(), receiver.url()));

        WebhookDelivery d = receiver.deliveries.poll(10, TimeUnit.SECONDS);
        assertThat(d).isNotNull();
        WebhookNotice n = provider.verifyWebhook(account, d);
        assertThat(n.remoteId()).isEqualTo(s.remoteId());
        assertThat(n.deliveryId()).isEqualTo(d.header("webhook-id"));
        JsonNode body = Json.MAPPER.readTree(d.body());
        assertThat(body.path("status").asString()).isEqualTo("completed");
        assertThat(body.path("outputs").size()).isEqualTo(1);
        assertThat(body.has("code") && body.path("code").asInt() == 200).as("bare prediction, no envelope").isFalse();
        assertThat(receiver.deliveries.poll(300, TimeUnit.MILLISECONDS)).as("sent once").isNull();
    }

    @Test
    void webhookFaultsAreForgedDuplicatedDroppedAndRetried() throws Exception {
        WaveSpeedEmulator e = emulator();
        Receiver receiver = receiver(1); // first attempt answers 500: the emulator retries
        ProviderAccount account = account(e);

        e.faults().forgeWebhookSignatures(1);
        provider.submit(account, request("kiln/sandbox-image", TXT2IMG, "forged", 1, "png", Map.of(), receiver.url()));
        WebhookDelivery forged = receiver.deliveries.poll(10, TimeUnit.SECONDS);
        assertThat(forged).isNotNull();
        assertThat(receiver.attempts.get()).as("500 first, then retried").isEqualTo(2);
        assertThatThrownBy(() -> provider.verifyWebhook(account, forged)).isInstanceOf(WebhookRejected.class);

        e.faults().duplicateWebhooks(1);
        provider.submit(account, request("kiln/sandbox-image", TXT2IMG, "twice", 1, "png", Map.of(), receiver.url()));
        WebhookDelivery first = receiver.deliveries.poll(10, TimeUnit.SECONDS);
        WebhookDelivery second = receiver.deliveries.poll(10, TimeUnit.SECONDS);
        assertThat(second).isNotNull();
        assertThat(provider.verifyWebhook(account, second).deliveryId()).isEqualTo(provider.verifyWebhook(account, first).deliveryId());

        e.faults().dropWebhooks(1);
        Submitted dropped = provider.submit(account, request("kiln/sandbox-image", TXT2IMG, "dropped", 1, "png", Map.of(), receiver.url()));
        assertThat(pollUntilDone(account, dropped)).isInstanceOf(RemoteStatus.Succeeded.class);
        assertThat(receiver.deliveries.poll(300, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void theSameAdapterServesTheSandboxProviderIdWithoutAKey() throws IOException {
        WaveSpeedEmulator e = emulator(WaveSpeedEmulator.Config.defaults());
        WaveSpeedProvider sandbox = new WaveSpeedProvider(http, WaveSpeedConfig.defaults("sandbox"));
        ProviderAccount account = new ProviderAccount("sandbox", "sandbox", "sandbox", e.baseUrl() + "/", null, Map.of(), true);

        Submitted s = sandbox.submit(account, request("offline", 8));
        RemoteStatus done = sandbox.poll(account, new RemoteRef(s.remoteId(), s.remote()));
        assertThat(decode(sandbox.open(account, ((RemoteStatus.Succeeded) done).outputs().getFirst())).getWidth()).isEqualTo(64);

        assertThat(sandbox.id()).isEqualTo("sandbox");
        e.faults().failSubmits(1);
        assertThatThrownBy(() -> sandbox.submit(account, request("offline", 8)))
                .isInstanceOfSatisfying(ProviderException.class, ex -> assertThat(ex.provider()).isEqualTo("sandbox"));
    }

    // ---- pacing and throughput

    @Test
    void pollPolicyFollowsWaveSpeedsGuidanceAndIsFastInTheSandbox() {
        ProviderAccount real = new ProviderAccount("a", "wavespeed", "real", "https://api.wavespeed.ai", KEY, Map.of(), false);
        ProviderAccount sandbox = new ProviderAccount("s", "sandbox", "sandbox", "http://127.0.0.1:1", null, Map.of(), true);
        assertThat(provider.pollPolicy(real, "image")).isEqualTo(new PollPolicy(Duration.ofSeconds(2), Duration.ofSeconds(30), 1.5));
        assertThat(provider.pollPolicy(real, "video").minInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(provider.pollPolicy(sandbox, "image")).isEqualTo(new PollPolicy(Duration.ofMillis(50), Duration.ofSeconds(2), 1.5));
    }

    /** Prints cycles per second; checks only that every cycle worked and nothing was submitted twice. */
    @Test
    void sustainsManySubmitPollDownloadCycles() throws Exception {
        WaveSpeedEmulator e = emulator();
        ProviderAccount account = account(e);
        int cycles = Integer.getInteger("cycles", 400);
        for (int i = 0; i < WARM; i++) cycle(account, "warm " + i); // JIT and connection pool
        Map<String, Boolean> ids = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        try (var pool = Executors.newFixedThreadPool(8)) {
            List<java.util.concurrent.Future<String>> futures = new ArrayList<>();
            for (int i = 0; i < cycles; i++) {
                int n = i;
                futures.add(pool.submit(() -> cycle(account, "load " + n)));
            }
            for (var f : futures) ids.put(f.get(), true);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "wavespeed emulator: %d submit+poll+download cycles in %.2f s = %.0f/s%n",
                cycles, seconds, cycles / seconds);
        assertThat(ids).hasSize(cycles);
        assertThat(e.submissions()).hasSize(cycles + WARM);
    }

    private String cycle(ProviderAccount account, String prompt) throws IOException {
        Submitted s = provider.submit(account, request(prompt, 1));
        RemoteStatus st = provider.poll(account, new RemoteRef(s.remoteId(), s.remote()));
        OutputRef out = ((RemoteStatus.Succeeded) st).outputs().getFirst();
        try (Download d = provider.open(account, out)) {
            assertThat(d.body().readAllBytes().length).isPositive();
        }
        return s.remoteId();
    }

    // ---- helpers

    private static InputImage image(String assetId, byte[] bytes, String mime) {
        return new InputImage(assetId, sha256(bytes), mime, bytes.length, null, null, null, () -> new ByteArrayInputStream(bytes));
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] fetch(String url) throws IOException {
        try (HttpClient c = HttpClient.newHttpClient()) {
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            return r.body();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Signs like WaveSpeed, written here independently of the adapter and the emulator. */
    private static String sign(String secret, String id, long ts, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.substring("whsec_".length()).getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((id + "." + ts + ".").getBytes(StandardCharsets.UTF_8));
            return "v3," + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static WebhookDelivery delivery(String id, long ts, String signature, byte[] body, Instant receivedAt) {
        return new WebhookDelivery(Map.of("webhook-id", List.of(id), "Webhook-Timestamp", List.of(Long.toString(ts)),
                "webhook-signature", List.of(signature)), body, receivedAt);
    }

    private void assertRejected(ProviderAccount account, WebhookDelivery d, String reason) {
        assertThatThrownBy(() -> provider.verifyWebhook(account, d)).isInstanceOf(WebhookRejected.class)
                .hasMessageContaining(reason);
    }

    /** A local webhook endpoint recording what arrives; the first {@code failFirst} attempts get a 500. */
    private record Receiver(String url, BlockingQueue<WebhookDelivery> deliveries, AtomicInteger attempts) {}

    private Receiver receiver(int failFirst) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        BlockingQueue<WebhookDelivery> deliveries = new LinkedBlockingQueue<>();
        AtomicInteger attempts = new AtomicInteger();
        server.createContext("/hook", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            if (attempts.incrementAndGet() <= failFirst) {
                ex.sendResponseHeaders(500, -1);
            } else {
                deliveries.add(new WebhookDelivery(new HashMap<>(ex.getRequestHeaders()), body, Instant.now()));
                ex.sendResponseHeaders(200, -1);
            }
            ex.close();
        });
        server.start();
        closeables.add(() -> server.stop(0));
        return new Receiver("http://127.0.0.1:" + server.getAddress().getPort() + "/hook", deliveries, attempts);
    }
}

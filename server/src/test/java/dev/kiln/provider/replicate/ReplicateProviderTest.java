package dev.kiln.provider.replicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.emulator.replicate.ReplicateEmulator;
import dev.kiln.provider.Download;
import dev.kiln.provider.InputImage;
import dev.kiln.provider.OutputRef;
import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.ProviderException;
import dev.kiln.provider.ProviderHttp;
import dev.kiln.provider.Reconciliation;
import dev.kiln.provider.RemoteRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.provider.WebhookRejected;
import dev.kiln.support.Json;
import dev.kiln.testing.FullBacklog;
import dev.kiln.testing.WebhookCatcher;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The Replicate adapter against the Replicate emulator over real HTTP: every fault of Kiln issue 3. */
class ReplicateProviderTest {
    private static final String TOKEN = "r8_test-token";
    private static final String ESRGAN = "f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa";
    private static final String FLUX_INPUT = """
            {"prompt":"${prompt}","aspect_ratio":"${aspect_ratio}","num_outputs":"${num_outputs}","output_format":"${output_format}",
             "megapixels":"0.25","seed":"${seed}"}""";

    private final ReplicateProvider provider = new ReplicateProvider(new ProviderHttp(Duration.ofSeconds(2)),
            ReplicateConfig.defaults().withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2)));
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeables.reversed()) c.close();
    }

    private static ReplicateEmulator.Config config() {
        return ReplicateEmulator.Config.defaults().withApiToken(TOKEN).withVersions(Map.of(ESRGAN, "nightmareai/real-esrgan"))
                .withWebhookRetries(3, Duration.ofMillis(50));
    }

    private ReplicateEmulator emulator(ReplicateEmulator.Config c) {
        ReplicateEmulator e = ReplicateEmulator.start(c);
        closeables.add(e);
        return e;
    }

    private ReplicateEmulator emulator() {
        return emulator(config());
    }

    private static ProviderAccount account(ReplicateEmulator e, Map<String, String> config) {
        return new ProviderAccount("acc-r", "replicate", "test", e.apiUrl(), TOKEN, config, false);
    }

    private static ProviderAccount account(ReplicateEmulator e) {
        return account(e, Map.of("webhook_secret", e.config().webhookSecret()));
    }

    private static SubmitRequest flux(String prompt, long seed, int outputs, String format, Duration eta, String webhook) {
        Map<String, Object> v = new HashMap<>();
        v.put("prompt", prompt);
        v.put("aspect_ratio", "16:9");
        v.put("num_outputs", outputs);
        v.put("output_format", format);
        v.put("seed", seed);
        return new SubmitRequest("job_1", 1, "flux-schnell", "txt2img", "image", "black-forest-labs/flux-schnell",
                Json.parse(FLUX_INPUT), v, Map.of(), webhook, Instant.now().plusSeconds(600), eta);
    }

    private static SubmitRequest flux(String prompt, long seed) {
        return flux(prompt, seed, 1, "png", Duration.ofSeconds(30), null);
    }

    private RemoteStatus pollUntilDone(ProviderAccount account, Submitted s) {
        RemoteStatus[] last = new RemoteStatus[1];
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
            last[0] = provider.poll(account, new RemoteRef(s.remoteId(), s.remote()));
            return !(last[0] instanceof RemoteStatus.Pending);
        });
        return last[0];
    }

    private static BufferedImage decode(Download d) throws IOException {
        try (d; InputStream in = d.body()) {
            return ImageIO.read(in);
        }
    }

    // ---- the happy paths

    @Test
    void anOfficialModelRunsThroughTheModelsEndpointAndRendersFromPromptAndSeed() throws IOException {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        Submitted s = provider.submit(account, flux("a lighthouse at dusk", 7, 2, "png", Duration.ofSeconds(30), null));

        assertThat(s.remoteId()).matches("[a-z2-7]{26}");
        assertThat(s.status()).isNull();
        assertThat(e.submissions()).singleElement().satisfies(sub -> {
            assertThat(sub.model()).isEqualTo("black-forest-labs/flux-schnell");
            assertThat(sub.version()).isEqualTo("hidden");
            assertThat(sub.prefer()).as("no Prefer: wait for a 30 s job").isNull();
            assertThat(sub.input().path("seed").asLong()).isEqualTo(7);
            assertThat(sub.webhook()).isNull();
        });
        List<OutputRef> outputs = ((RemoteStatus.Succeeded) pollUntilDone(account, s)).outputs();
        assertThat(outputs).hasSize(2);
        BufferedImage img = decode(provider.open(account, outputs.get(1)));
        // 16:9 at 0.25 megapixels, in multiples of 16.
        assertThat(img.getWidth()).isEqualTo(688);
        assertThat(img.getHeight()).isEqualTo(384);
        BufferedImage direct = ImageIO.read(new ByteArrayInputStream(SandboxRenderer.render("a lighthouse at dusk", 8, 688, 384, "png")));
        assertThat(img.getRGB(0, 0, 688, 384, null, 0, 688)).isEqualTo(direct.getRGB(0, 0, 688, 384, null, 0, 688));
    }

    @Test
    void aVersionedModelIsAVersionPredictionWithItsImageAsADataUri() throws IOException {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        byte[] png = SandboxRenderer.render("small", 1, 40, 30, "png");
        InputImage img = new InputImage("asset_1", sha(png), "image/png", png.length, 40, 30, null, () -> new ByteArrayInputStream(png));
        SubmitRequest req = new SubmitRequest("job_2", 1, "real-esrgan", "upscale", "image", "nightmareai/real-esrgan:" + ESRGAN,
                Json.parse("{\"image\":\"${images.image[0]}\",\"scale\":\"${scale}\"}"), Map.of("scale", 2),
                Map.of("image", List.of(img)), null, Instant.now().plusSeconds(600), Duration.ofSeconds(30));

        Submitted s = provider.submit(account, req);

        ReplicateEmulator.Submission sub = e.submissions().getFirst();
        assertThat(sub.version()).isEqualTo(ESRGAN);
        assertThat(sub.model()).isEqualTo("nightmareai/real-esrgan");
        assertThat(sub.input().path("image").asString()).startsWith("data:image/png;base64,");
        List<OutputRef> outputs = ((RemoteStatus.Succeeded) pollUntilDone(account, s)).outputs();
        assertThat(outputs).as("a single-string output").hasSize(1);
        BufferedImage out = decode(provider.open(account, outputs.getFirst()));
        assertThat(out.getWidth()).isEqualTo(80);
        assertThat(out.getHeight()).isEqualTo(60);
    }

    /** A PNG of random pixels, which does not compress: about {@code side² × 3} bytes. */
    private static byte[] noise(int side) throws IOException {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        java.util.Random r = new java.util.Random(side);
        for (int y = 0; y < side; y++) for (int x = 0; x < side; x++) img.setRGB(x, y, r.nextInt());
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private static SubmitRequest esrgan(InputImage img) {
        return new SubmitRequest("job_2", 1, "real-esrgan", "upscale", "image", "nightmareai/real-esrgan:" + ESRGAN,
                Json.parse("{\"image\":\"${images.image[0]}\",\"scale\":\"${scale}\"}"), Map.of("scale", 2),
                Map.of("image", List.of(img)), null, Instant.now().plusSeconds(600), Duration.ofSeconds(30));
    }

    @Test
    void anImageOver256KbWithoutAPublicUrlGoesThroughTheFilesApiNeverAsADataUri() throws IOException {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        byte[] big = noise(330);
        assertThat(big.length).isGreaterThan(256 * 1024);
        InputImage img = new InputImage("asset_big", sha(big), "image/png", big.length, 330, 330, null, () -> new ByteArrayInputStream(big));

        Submitted s = provider.submit(account, esrgan(img));

        String sent = e.submissions().getFirst().input().path("image").asString();
        assertThat(sent).startsWith(e.apiUrl() + "/files/");
        List<OutputRef> outputs = ((RemoteStatus.Succeeded) pollUntilDone(account, s)).outputs();
        BufferedImage out = decode(provider.open(account, outputs.getFirst()));
        assertThat(out.getWidth()).as("upscaled from the uploaded file itself").isEqualTo(660);
    }

    @Test
    void aLostSubmitWhoseImageWasADataUriIsNeverReportedAsNotReceived() {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        byte[] png = SandboxRenderer.render("small", 1, 40, 30, "png");
        InputImage img = new InputImage("asset_1", sha(png), "image/png", png.length, 40, 30, null, () -> new ByteArrayInputStream(png));
        e.faults().dropSubmitsAfterAccepting(1);
        Instant intent = Instant.now();
        assertThatThrownBy(() -> provider.submit(account, esrgan(img))).isInstanceOf(ProviderException.Ambiguous.class);

        // Replicate keeps no data URI, so the listed input lacks the image: matching, but not provably this job's.
        Reconciliation r = provider.reconcile(account, esrgan(img), intent);
        assertThat(r).isNotInstanceOf(Reconciliation.NotFound.class);
        assertThat(r).isInstanceOfSatisfying(Reconciliation.Unconfirmed.class,
                u -> assertThat(u.remoteIds()).containsExactly(e.submissions().getFirst().id()));
        assertThat(e.submissions()).hasSize(1);
    }

    @Test
    void aLostSubmitWhoseImageWentThroughTheFilesApiIsFound() throws IOException {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        byte[] big = noise(330);
        InputImage img = new InputImage("asset_big", sha(big), "image/png", big.length, 330, 330, null, () -> new ByteArrayInputStream(big));
        e.faults().dropSubmitsAfterAccepting(1);
        Instant intent = Instant.now();
        assertThatThrownBy(() -> provider.submit(account, esrgan(img))).isInstanceOf(ProviderException.Ambiguous.class);
        assertThat(provider.reconcile(account, esrgan(img), intent)).isInstanceOfSatisfying(Reconciliation.Found.class,
                f -> assertThat(f.submitted().remoteId()).isEqualTo(e.submissions().getFirst().id()));
    }

    @Test
    void anUnknownVersionIsRejectedWithReplicatesDetail() {
        ReplicateEmulator e = emulator();
        SubmitRequest req = new SubmitRequest("job_3", 1, "x", "m", "image", "0".repeat(64), Json.parse("{\"prompt\":\"${prompt}\"}"),
                Map.of("prompt", "p"), Map.of(), null, Instant.now().plusSeconds(60), Duration.ofSeconds(30));
        assertThatThrownBy(() -> provider.submit(account(e), req))
                .isInstanceOfSatisfying(ProviderException.Rejected.class, ex -> {
                    assertThat(ex.httpStatus()).isEqualTo(422);
                    assertThat(ex.getMessage()).contains("The specified version does not exist");
                });
        assertThatThrownBy(() -> provider.submit(account(e), new SubmitRequest("job_3", 1, "x", "m", "image", "not a model",
                Json.parse("{}"), Map.of(), Map.of(), null, Instant.now(), Duration.ZERO)))
                .isInstanceOf(ProviderException.Rejected.class);
        assertThat(e.submissions()).isEmpty();
    }

    @Test
    void badInputIsRejectedNamingReplicatesDetail() {
        ReplicateEmulator e = emulator();
        SubmitRequest req = flux("x", 1, 9, "png", Duration.ofSeconds(30), null);
        assertThatThrownBy(() -> provider.submit(account(e), req))
                .isInstanceOfSatisfying(ProviderException.Rejected.class,
                        ex -> assertThat(ex.getMessage()).contains("input.num_outputs: Must be less than or equal to 4"));
    }

    @Test
    void aShortJobWaitsForItsAnswerAndALongerWaitEndsPending() {
        ReplicateEmulator fast = emulator(config().withLatency(Duration.ofMillis(200)));
        Submitted s = provider.submit(account(fast), flux("quick", 1, 1, "png", Duration.ofSeconds(2), null));
        assertThat(fast.submissions().getFirst().prefer()).isEqualTo("wait=9");
        assertThat(s.status()).as("the waited-for answer is final").isInstanceOf(RemoteStatus.Succeeded.class);

        ReplicateProvider impatient = new ReplicateProvider(new ProviderHttp(Duration.ofSeconds(2)),
                ReplicateConfig.defaults().withSync(Duration.ofSeconds(10), Duration.ofSeconds(1)));
        ReplicateEmulator slow = emulator(config().withLatency(Duration.ofMillis(2500)));
        long start = System.nanoTime();
        Submitted p = impatient.submit(account(slow), flux("slow", 1, 1, "png", Duration.ofSeconds(2), null));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        assertThat(slow.submissions().getFirst().prefer()).isEqualTo("wait=1");
        assertThat(p.status()).as("still running: poll on").isNull();
    }

    @Test
    void aWebhookAsksForCompletedOnlyOrAlsoStartForLongJobs() {
        ReplicateEmulator e = emulator();
        String hook = "http://127.0.0.1:9/webhooks/replicate?token=abc";
        provider.submit(account(e), flux("short", 1, 1, "png", Duration.ofSeconds(3), hook));
        provider.submit(account(e), flux("long", 1, 1, "png", Duration.ofSeconds(40), hook));
        assertThat(e.submissions().get(0).webhook()).isEqualTo(hook);
        assertThat(e.submissions().get(0).events()).containsExactly("completed");
        assertThat(e.submissions().get(1).events()).containsExactly("start", "completed");
    }

    // ---- submit faults

    @Test
    void a429StormIsRateLimitedEachTimeWithRetryAfterAndCreatesNothingUntilItPasses() {
        ReplicateEmulator e = emulator();
        e.faults().rateLimitSubmits(3, Duration.ofSeconds(2));
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> provider.submit(account(e), flux("busy", 1)))
                    .isInstanceOfSatisfying(ProviderException.RateLimited.class,
                            ex -> assertThat(ex.retryAfter()).isEqualTo(Duration.ofSeconds(2)));
        }
        assertThat(e.submissions()).isEmpty();
        assertThat(provider.reconcile(account(e), flux("busy", 1), Instant.now().minusSeconds(1))).isInstanceOf(Reconciliation.NotFound.class);
        provider.submit(account(e), flux("busy", 1));
        assertThat(e.submissions()).hasSize(1);
    }

    @Test
    void serverErrorsAreUnavailableAndCreateNothing() {
        ReplicateEmulator e = emulator();
        e.faults().failSubmits(1);
        assertThatThrownBy(() -> provider.submit(account(e), flux("boom", 1)))
                .isInstanceOfSatisfying(ProviderException.Unavailable.class, ex -> assertThat(ex.httpStatus()).isEqualTo(500));
        assertThat(e.submissions()).isEmpty();
    }

    @Test
    void aRefusedTokenIsAuthFailedAndHealthSaysSo() {
        ReplicateEmulator e = emulator();
        ProviderAccount wrong = new ProviderAccount("acc-x", "replicate", "bad", e.apiUrl(), "r8_wrong", Map.of(), false);
        assertThatThrownBy(() -> provider.submit(wrong, flux("x", 1))).isInstanceOfSatisfying(ProviderException.AuthFailed.class,
                ex -> assertThat(ex.httpStatus()).isEqualTo(401));
        assertThat(provider.health(wrong).ok()).isFalse();
        assertThat(provider.health(account(e)).ok()).isTrue();
        assertThat(provider.health(account(e)).message()).contains("kiln-sandbox");
    }

    @Test
    void anUnreachableProviderIsUnavailableBeforeAnythingWasSent() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProviderAccount gone = new ProviderAccount("acc-g", "replicate", "gone", "http://127.0.0.1:" + port + "/v1", TOKEN, Map.of(), false);
        assertThatThrownBy(() -> provider.submit(gone, flux("x", 1))).isInstanceOf(ProviderException.Unavailable.class);
        // A connect timeout: a listener whose accept queue is full drops new connection attempts.
        ReplicateProvider quick = new ReplicateProvider(new ProviderHttp(Duration.ofMillis(300)), ReplicateConfig.defaults());
        try (FullBacklog hole = new FullBacklog()) {
            ProviderAccount blackhole = new ProviderAccount("acc-b", "replicate", "hole", hole.url() + "/v1", TOKEN, Map.of(), false);
            assertThatThrownBy(() -> quick.submit(blackhole, flux("x", 1)))
                    .isInstanceOfSatisfying(ProviderException.Unavailable.class, ex -> assertThat(ex.getMessage()).contains("cannot connect"));
        }
    }

    @Test
    void aReadTimeoutAfterSendingIsAmbiguousAndReconcileFindsThePrediction() {
        ReplicateEmulator e = emulator();
        e.faults().delaySubmitsAfterAccepting(1, Duration.ofSeconds(4));
        ProviderAccount account = account(e);
        Instant intent = Instant.now();
        assertThatThrownBy(() -> provider.submit(account, flux("slow answer", 3))).isInstanceOf(ProviderException.Ambiguous.class);
        assertThat(e.submissions()).hasSize(1);
        Reconciliation r = provider.reconcile(account, flux("slow answer", 3), intent);
        assertThat(r).isInstanceOfSatisfying(Reconciliation.Found.class,
                f -> assertThat(f.submitted().remoteId()).isEqualTo(e.submissions().getFirst().id()));
    }

    @Test
    void droppedAndUnreadableAnswersAreAmbiguousAndReconcilable() {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        e.faults().dropSubmitsAfterAccepting(1);
        assertThatThrownBy(() -> provider.submit(account, flux("dropped", 1))).isInstanceOf(ProviderException.Ambiguous.class);
        e.faults().malformSubmitAnswers(1);
        assertThatThrownBy(() -> provider.submit(account, flux("cut", 1))).isInstanceOf(ProviderException.Ambiguous.class);
        Instant intent = Instant.now().minusSeconds(5);
        assertThat(provider.reconcile(account, flux("dropped", 1), intent)).isInstanceOfSatisfying(Reconciliation.Found.class,
                f -> assertThat(f.submitted().remoteId()).isEqualTo(e.submissions().get(0).id()));
        assertThat(provider.reconcile(account, flux("cut", 1), intent)).isInstanceOfSatisfying(Reconciliation.Found.class,
                f -> assertThat(f.submitted().remoteId()).isEqualTo(e.submissions().get(1).id()));
        assertThat(provider.reconcile(account, flux("never sent", 1), intent)).isInstanceOf(Reconciliation.NotFound.class);
        provider.submit(account, flux("twice", 1));
        provider.submit(account, flux("twice", 1));
        assertThat(provider.reconcile(account, flux("twice", 1), intent)).isInstanceOf(Reconciliation.Unknown.class);
    }

    @Test
    void reconcileAsksAgainLaterWhenTheListCannotBeRead() {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        e.close();
        // Unreachable now is not "never received": the engine asks again until the deadline.
        assertThat(provider.reconcile(account, flux("x", 1), Instant.now())).isInstanceOf(Reconciliation.NotYet.class);
    }

    // ---- poll faults

    @Test
    void pollFaultsMapToRateLimitedUnavailableMalformedAndNotFound() {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        Submitted s = provider.submit(account, flux("polled", 1));
        RemoteRef ref = new RemoteRef(s.remoteId(), s.remote());
        e.faults().rateLimitPolls(1, Duration.ofSeconds(3)).failPolls(1).malformPolls(1);
        assertThatThrownBy(() -> provider.poll(account, ref)).isInstanceOfSatisfying(ProviderException.RateLimited.class,
                ex -> assertThat(ex.retryAfter()).isEqualTo(Duration.ofSeconds(3)));
        assertThatThrownBy(() -> provider.poll(account, ref)).isInstanceOf(ProviderException.Unavailable.class);
        assertThatThrownBy(() -> provider.poll(account, ref)).isInstanceOf(ProviderException.Malformed.class);
        assertThat(provider.poll(account, ref)).isInstanceOf(RemoteStatus.Succeeded.class);
        assertThatThrownBy(() -> provider.poll(account, new RemoteRef("nosuchprediction", null))).isInstanceOf(ProviderException.NotFound.class);

        e.faults().delayRequests(1, Duration.ofSeconds(4));
        assertThatThrownBy(() -> provider.poll(account, ref)).as("a read timeout on a poll is merely transient")
                .isInstanceOf(ProviderException.Unavailable.class);
    }

    @Test
    void progressComesFromTheLogsWhileProcessing() {
        ReplicateEmulator e = emulator(config().withLatency(Duration.ofSeconds(4)));
        ProviderAccount account = account(e);
        Submitted s = provider.submit(account, flux("slowly", 1));
        RemoteRef ref = new RemoteRef(s.remoteId(), s.remote());
        assertThat(provider.poll(account, ref)).isEqualTo(new RemoteStatus.Pending(0, null));
        await().atMost(Duration.ofSeconds(5)).until(() -> provider.poll(account, ref) instanceof RemoteStatus.Pending p && p.progress() >= 0.25);
        provider.cancel(account, ref);
    }

    @Test
    void failuresAreRetryableOnlyForReplicatesOwnFaults() {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        e.faults().failJobs(1, "Prediction interrupted; please retry (code: PA)", true);
        RemoteStatus a = pollUntilDone(account, provider.submit(account, flux("a", 1)));
        assertThat(a).isEqualTo(new RemoteStatus.Failed("replicate_failed", "Prediction interrupted; please retry (code: PA)", true));
        e.faults().failJobs(1, "NSFW content detected.", false);
        RemoteStatus b = pollUntilDone(account, provider.submit(account, flux("b", 1)));
        assertThat(b).isEqualTo(new RemoteStatus.Failed("replicate_failed", "NSFW content detected.", false));
    }

    @Test
    void aPredictionThatNeverCompletesStaysPendingUntilCancelled() {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        e.faults().neverComplete(1);
        Submitted s = provider.submit(account, flux("forever", 1));
        RemoteRef ref = new RemoteRef(s.remoteId(), s.remote());
        assertThat(provider.poll(account, ref)).isInstanceOf(RemoteStatus.Pending.class);
        provider.cancel(account, ref);
        assertThat(e.status(s.remoteId())).isEqualTo("canceled");
        assertThat(provider.poll(account, ref)).isInstanceOf(RemoteStatus.Canceled.class);
        provider.cancel(account, ref); // again: not an error
        provider.cancel(account, new RemoteRef("unknownprediction", null));
    }

    @Test
    void anExpiredOutputIsNotFoundAndRemovedDataIsAFailureNotASuccess() throws InterruptedException {
        ReplicateEmulator e = emulator(config().withOutputTtl(Duration.ofMillis(400)));
        ProviderAccount account = account(e);
        Submitted s = provider.submit(account, flux("fleeting", 1));
        OutputRef out = ((RemoteStatus.Succeeded) pollUntilDone(account, s)).outputs().getFirst();
        e.faults().expireOutputs(1);
        assertThatThrownBy(() -> provider.open(account, out)).isInstanceOf(ProviderException.NotFound.class);
        Thread.sleep(600);
        assertThatThrownBy(() -> provider.open(account, out)).isInstanceOf(ProviderException.NotFound.class);
        assertThat(provider.poll(account, new RemoteRef(s.remoteId(), s.remote())))
                .isInstanceOfSatisfying(RemoteStatus.Failed.class, f -> assertThat(f.code()).isEqualTo("replicate_data_removed"));
    }

    // ---- webhooks

    @Test
    void theEmulatorsSignedWebhookVerifiesWithTheConfiguredOrTheFetchedSecret() throws Exception {
        ReplicateEmulator e = emulator();
        try (WebhookCatcher hooks = new WebhookCatcher()) {
            Submitted s = provider.submit(account(e), flux("hooked", 1, 1, "png", Duration.ofSeconds(30), hooks.url()));
            WebhookDelivery d = hooks.next(Duration.ofSeconds(5));
            assertThat(d).isNotNull();
            assertThat(Json.MAPPER.readTree(d.body()).path("status").asString()).isEqualTo("succeeded");
            assertThat(d.header("webhook-signature")).startsWith("v1,");
            assertThat(provider.verifyWebhook(account(e), d).remoteId()).isEqualTo(s.remoteId());
            assertThat(provider.verifyWebhook(account(e), d).deliveryId()).isEqualTo(d.header("webhook-id"));
            // No configured secret: fetched from GET /webhooks/default/secret.
            assertThat(provider.verifyWebhook(account(e, Map.of()), d).remoteId()).isEqualTo(s.remoteId());
        }
    }

    @Test
    void forgedStaleAndIncompleteWebhooksAreRefused() throws Exception {
        ReplicateEmulator e = emulator();
        try (WebhookCatcher hooks = new WebhookCatcher()) {
            e.faults().forgeWebhookSignatures(1);
            provider.submit(account(e), flux("forged", 1, 1, "png", Duration.ofSeconds(30), hooks.url()));
            WebhookDelivery forged = hooks.next(Duration.ofSeconds(5));
            assertThatThrownBy(() -> provider.verifyWebhook(account(e), forged)).isInstanceOf(WebhookRejected.class).hasMessageContaining("signature");
            assertThatThrownBy(() -> provider.verifyWebhook(account(e, Map.of()), forged)).isInstanceOf(WebhookRejected.class);

            provider.submit(account(e), flux("genuine", 1, 1, "png", Duration.ofSeconds(30), hooks.url()));
            WebhookDelivery good = hooks.next(Duration.ofSeconds(5));
            WebhookDelivery late = new WebhookDelivery(good.headers(), good.body(), good.receivedAt().plusSeconds(400));
            assertThatThrownBy(() -> provider.verifyWebhook(account(e), late)).isInstanceOf(WebhookRejected.class).hasMessageContaining("timestamp");
            byte[] tampered = new String(good.body()).replace("succeeded", "failed").getBytes();
            assertThatThrownBy(() -> provider.verifyWebhook(account(e), new WebhookDelivery(good.headers(), tampered, good.receivedAt())))
                    .isInstanceOf(WebhookRejected.class);
            assertThatThrownBy(() -> provider.verifyWebhook(account(e), new WebhookDelivery(Map.of(), good.body(), good.receivedAt())))
                    .isInstanceOf(WebhookRejected.class).hasMessageContaining("missing");
        }
    }

    @Test
    void duplicatedLostAndOutOfOrderWebhooksAreDeliveredAsTheServiceWould() throws Exception {
        ReplicateEmulator e = emulator();
        ProviderAccount account = account(e);
        try (WebhookCatcher hooks = new WebhookCatcher()) {
            e.faults().duplicateWebhooks(1);
            provider.submit(account, flux("twice", 1, 1, "png", Duration.ofSeconds(30), hooks.url()));
            WebhookDelivery a = hooks.next(Duration.ofSeconds(5)), b = hooks.next(Duration.ofSeconds(5));
            assertThat(provider.verifyWebhook(account, b).deliveryId()).isEqualTo(provider.verifyWebhook(account, a).deliveryId());

            e.faults().dropWebhooks(1);
            provider.submit(account, flux("lost", 1, 1, "png", Duration.ofSeconds(30), hooks.url()));
            assertThat(hooks.next(Duration.ofMillis(700))).isNull();

            e.faults().reorderWebhooks(1);
            Submitted s = provider.submit(account, flux("reordered", 1, 1, "png", Duration.ofSeconds(30), hooks.url()));
            WebhookDelivery first = hooks.next(Duration.ofSeconds(5)), second = hooks.next(Duration.ofSeconds(5));
            assertThat(Json.MAPPER.readTree(first.body()).path("status").asString()).isEqualTo("succeeded");
            assertThat(Json.MAPPER.readTree(second.body()).path("status").asString()).isEqualTo("processing");
            // Both are genuine; the stale one is only a hint, and polling still says succeeded.
            assertThat(provider.verifyWebhook(account, second).remoteId()).isEqualTo(s.remoteId());
            assertThat(provider.poll(account, new RemoteRef(s.remoteId(), s.remote()))).isInstanceOf(RemoteStatus.Succeeded.class);
        }
    }

    private static String sha(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unused")
    private static JsonNode tree(byte[] b) {
        return Json.MAPPER.readTree(b);
    }
}

package dev.kiln.provider.fal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.fal.FalEmulator;
import dev.kiln.emulator.render.SandboxRenderer;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fal adapter against the fal emulator over real HTTP: every fault of Kiln issue 3. */
class FalProviderTest {
    private static final String KEY = "fal-test-key";
    private static final String FLUX_INPUT = """
            {"prompt":"${prompt}","image_size":{"width":"${width}","height":"${height}"},"num_images":"${n}",
             "output_format":"${format}","seed":"${seed}"}""";

    private final FalProvider provider = new FalProvider(new ProviderHttp(Duration.ofSeconds(2)),
            FalConfig.defaults().withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2)).withJwksRefreshMinInterval(Duration.ZERO));
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeables.reversed()) c.close();
    }

    private static FalEmulator.Config config() {
        return FalEmulator.Config.defaults().withApiKey(KEY).withWebhookRetries(3, Duration.ofMillis(50));
    }

    private FalEmulator emulator(FalEmulator.Config c) {
        FalEmulator e = FalEmulator.start(c);
        closeables.add(e);
        return e;
    }

    private FalEmulator emulator() {
        return emulator(config());
    }

    private static ProviderAccount account(FalEmulator e) {
        return new ProviderAccount("acc-f", "fal", "test", e.baseUrl(), KEY, Map.of("jwks_url", e.jwksUrl()), false);
    }

    private static SubmitRequest flux(String prompt, long seed, int n, String format, String webhook) {
        Map<String, Object> v = new HashMap<>();
        v.put("prompt", prompt);
        v.put("width", 96);
        v.put("height", 64);
        v.put("n", n);
        v.put("format", format);
        v.put("seed", seed);
        return new SubmitRequest("job_1", 1, "flux-schnell", "txt2img", "image", "fal-ai/flux/schnell",
                Json.parse(FLUX_INPUT), v, Map.of(), webhook, Instant.now().plusSeconds(600), Duration.ofSeconds(3));
    }

    private static SubmitRequest flux(String prompt, long seed) {
        return flux(prompt, seed, 1, "png", null);
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
    void submitKeepsTheReturnedQueueUrlsAndRendersFromPromptAndSeed() throws IOException {
        FalEmulator e = emulator();
        ProviderAccount account = account(e);
        Submitted s = provider.submit(account, flux("a lighthouse at dusk", 7, 2, "png", null));

        assertThat(s.remoteId()).matches("[0-9a-f-]{36}");
        // The queue URLs drop the model's subpath: Kiln uses them as given.
        assertThat(s.remote().path("status_url").asString()).isEqualTo(e.baseUrl() + "/fal-ai/flux/requests/" + s.remoteId() + "/status");
        assertThat(s.remote().path("response_url").asString()).isEqualTo(e.baseUrl() + "/fal-ai/flux/requests/" + s.remoteId());
        assertThat(s.remote().path("cancel_url").asString()).endsWith("/fal-ai/flux/requests/" + s.remoteId() + "/cancel");
        assertThat(e.submissions().getFirst().model()).isEqualTo("fal-ai/flux/schnell");

        List<OutputRef> outputs = ((RemoteStatus.Succeeded) pollUntilDone(account, s)).outputs();
        assertThat(outputs).hasSize(2).allSatisfy(o -> assertThat(o.mime()).isEqualTo("image/png"));
        BufferedImage img = decode(provider.open(account, outputs.get(1)));
        assertThat(img.getWidth()).isEqualTo(96);
        assertThat(img.getHeight()).isEqualTo(64);
        BufferedImage direct = ImageIO.read(new ByteArrayInputStream(SandboxRenderer.render("a lighthouse at dusk", 8, 96, 64, "png")));
        assertThat(img.getRGB(0, 0, 96, 64, null, 0, 96)).isEqualTo(direct.getRGB(0, 0, 96, 64, null, 0, 96));
    }

    @Test
    void anAnswerWithOnlyTheRequestIdGetsTheQueueUrlsFalsClientsBuild() throws IOException {
        // fal's webhook docs show a submit answered with request_id (and gateway_request_id) only.
        FalEmulator e = emulator(config().withMinimalSubmitAnswers(true));
        ProviderAccount account = account(e);
        Submitted s = provider.submit(account, flux("a harbour at dawn", 3));

        assertThat(s.remote().path("status_url").asString()).isEqualTo(e.baseUrl() + "/fal-ai/flux/requests/" + s.remoteId() + "/status");
        assertThat(s.remote().path("response_url").asString()).isEqualTo(e.baseUrl() + "/fal-ai/flux/requests/" + s.remoteId());
        assertThat(s.remote().path("cancel_url").asString()).isEqualTo(e.baseUrl() + "/fal-ai/flux/requests/" + s.remoteId() + "/cancel");
        List<OutputRef> outputs = ((RemoteStatus.Succeeded) pollUntilDone(account, s)).outputs();
        assertThat(decode(provider.open(account, outputs.getFirst())).getWidth()).isEqualTo(96);
    }

    @Test
    void queueAppsKeepTheirNamespaceAndDropTheSubpath() {
        assertThat(FalProvider.queueApp("fal-ai/flux/schnell")).isEqualTo("fal-ai/flux");
        assertThat(FalProvider.queueApp("fal-ai/fast-sdxl")).isEqualTo("fal-ai/fast-sdxl");
        assertThat(FalProvider.queueApp("workflows/someone/my-flow/run")).isEqualTo("workflows/someone/my-flow");
        assertThat(FalProvider.queueApp("comfy/someone/graph")).isEqualTo("comfy/someone/graph");
    }

    @Test
    void timeoutsAndConflictsFromTheQueueAreTemporary() {
        FalEmulator e = emulator();
        ProviderAccount account = account(e);
        for (int status : new int[] {408, 409}) {
            e.answerTransiently(status, 1);
            assertThatThrownBy(() -> provider.submit(account, flux("busy", 1)))
                    .isInstanceOfSatisfying(ProviderException.Unavailable.class, ex -> assertThat(ex.httpStatus()).isEqualTo(status));
        }
        assertThat(e.submissions()).isEmpty();
        Submitted s = provider.submit(account, flux("then fine", 1));
        for (int status : new int[] {408, 409}) {
            e.answerTransiently(status, 1);
            assertThatThrownBy(() -> provider.poll(account, new RemoteRef(s.remoteId(), s.remote())))
                    .isInstanceOf(ProviderException.Unavailable.class);
        }
        assertThat(pollUntilDone(account, s)).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    @Test
    void queuePositionAndLogProgressAreReported() {
        FalEmulator e = emulator(config().withLatency(Duration.ofSeconds(4)));
        ProviderAccount account = account(e);
        provider.submit(account, flux("first", 1));
        provider.submit(account, flux("second", 1));
        Submitted third = provider.submit(account, flux("third", 1));
        RemoteRef ref = new RemoteRef(third.remoteId(), third.remote());
        assertThat(provider.poll(account, ref)).isEqualTo(new RemoteStatus.Pending(0, 2));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> provider.poll(account, ref) instanceof RemoteStatus.Pending p && p.queuePosition() == null && p.progress() >= 0.25);
        for (var sub : e.submissions()) provider.cancel(account, new RemoteRef(sub.id(), statusRef(e, sub.id())));
        assertThat(e.submissions()).allSatisfy(sub -> assertThat(e.status(sub.id())).isEqualTo("CANCELED"));
    }

    private static tools.jackson.databind.JsonNode statusRef(FalEmulator e, String id) {
        return Json.object().put("cancel_url", e.baseUrl() + "/fal-ai/flux/requests/" + id + "/cancel");
    }

    @Test
    void imagesGoAsDataUrisOrAsKilnsPublicUrl() {
        FalEmulator e = emulator();
        byte[] png = SandboxRenderer.render("ref", 1, 32, 24, "png");
        InputImage inline = new InputImage("a1", "0".repeat(64), "image/png", png.length, 32, 24, null, () -> new ByteArrayInputStream(png));
        SubmitRequest req = new SubmitRequest("job_2", 1, "edit", "img2img", "image", "fal-ai/some/edit",
                Json.parse("{\"prompt\":\"${prompt}\",\"image_url\":\"${images.image[0]}\"}"), Map.of("prompt", "restyle"),
                Map.of("image", List.of(inline)), null, Instant.now().plusSeconds(60), Duration.ofSeconds(3));
        Submitted s = provider.submit(account(e), req);
        assertThat(e.submissions().getFirst().input().path("image_url").asString()).startsWith("data:image/png;base64,");
        OutputRef out = ((RemoteStatus.Succeeded) pollUntilDone(account(e), s)).outputs().getFirst();
        assertThat(out.url()).contains("/files/");
    }

    // ---- submit faults

    @Test
    void a429StormIsRateLimitedEachTimeAndCreatesNothing() {
        FalEmulator e = emulator();
        e.faults().rateLimitSubmits(3, Duration.ofSeconds(2));
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> provider.submit(account(e), flux("busy", 1)))
                    .isInstanceOfSatisfying(ProviderException.RateLimited.class, ex -> assertThat(ex.retryAfter()).isEqualTo(Duration.ofSeconds(2)));
        }
        assertThat(e.submissions()).isEmpty();
        provider.submit(account(e), flux("busy", 1));
        assertThat(e.submissions()).hasSize(1);
    }

    @Test
    void serverErrorsAuthAndValidationMapLikeTheContractSays() {
        FalEmulator e = emulator();
        e.faults().failSubmits(1);
        assertThatThrownBy(() -> provider.submit(account(e), flux("boom", 1)))
                .isInstanceOfSatisfying(ProviderException.Unavailable.class, ex -> assertThat(ex.httpStatus()).isEqualTo(500));
        ProviderAccount wrong = new ProviderAccount("acc-x", "fal", "bad", e.baseUrl(), "nope", Map.of(), false);
        assertThatThrownBy(() -> provider.submit(wrong, flux("x", 1))).isInstanceOf(ProviderException.AuthFailed.class);
        assertThat(provider.health(wrong).ok()).isFalse();
        assertThat(provider.health(account(e)).ok()).isTrue();
        SubmitRequest noPrompt = new SubmitRequest("j", 1, "m", "txt2img", "image", "fal-ai/flux/schnell", Json.parse("{\"seed\":1}"),
                Map.of(), Map.of(), null, Instant.now().plusSeconds(60), Duration.ofSeconds(3));
        assertThatThrownBy(() -> provider.submit(account(e), noPrompt))
                .isInstanceOfSatisfying(ProviderException.Rejected.class, ex -> assertThat(ex.getMessage()).contains("prompt: field required"));
        assertThat(e.submissions()).isEmpty();
    }

    @Test
    void connectFailuresAreUnavailableAndReadTimeoutsAfterSendingAreAmbiguousAndUnreconcilable() throws IOException {
        FalProvider quick = new FalProvider(new ProviderHttp(Duration.ofMillis(300)), FalConfig.defaults().withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1)));
        try (FullBacklog hole = new FullBacklog()) {
            ProviderAccount a = new ProviderAccount("acc-h", "fal", "hole", hole.url(), KEY, Map.of(), false);
            assertThatThrownBy(() -> quick.submit(a, flux("x", 1))).isInstanceOfSatisfying(ProviderException.Unavailable.class,
                    ex -> assertThat(ex.getMessage()).contains("cannot connect"));
        }
        FalEmulator e = emulator();
        e.faults().delaySubmitsAfterAccepting(1, Duration.ofSeconds(3));
        Instant intent = Instant.now();
        assertThatThrownBy(() -> quick.submit(account(e), flux("late", 1))).isInstanceOf(ProviderException.Ambiguous.class);
        assertThat(e.submissions()).hasSize(1);
        // fal cannot list requests: Kiln must not guess.
        assertThat(quick.reconcile(account(e), flux("late", 1), intent)).isInstanceOf(Reconciliation.Unknown.class);

        Submitted s = quick.submit(account(e), flux("polled", 1));
        e.faults().delayRequests(1, Duration.ofSeconds(3));
        assertThatThrownBy(() -> quick.poll(account(e), new RemoteRef(s.remoteId(), s.remote()))).isInstanceOf(ProviderException.Unavailable.class);
    }

    @Test
    void malformedAnswersAreAmbiguousOnSubmitAndMalformedOnPoll() {
        FalEmulator e = emulator();
        e.faults().malformSubmitAnswers(1).dropSubmitsAfterAccepting(1);
        assertThatThrownBy(() -> provider.submit(account(e), flux("cut", 1))).isInstanceOf(ProviderException.Ambiguous.class);
        assertThatThrownBy(() -> provider.submit(account(e), flux("dropped", 1))).isInstanceOf(ProviderException.Ambiguous.class);
        Submitted s = provider.submit(account(e), flux("fine", 1));
        RemoteRef ref = new RemoteRef(s.remoteId(), s.remote());
        e.faults().malformPolls(1).failPolls(1).rateLimitPolls(1, Duration.ofSeconds(2));
        assertThatThrownBy(() -> provider.poll(account(e), ref)).isInstanceOf(ProviderException.RateLimited.class);
        assertThatThrownBy(() -> provider.poll(account(e), ref)).isInstanceOf(ProviderException.Unavailable.class);
        assertThatThrownBy(() -> provider.poll(account(e), ref)).isInstanceOf(ProviderException.Malformed.class);
        assertThat(provider.poll(account(e), ref)).isInstanceOf(RemoteStatus.Succeeded.class);
    }

    // ---- remote outcomes

    @Test
    void failedRequestsEndCompletedAndTheResultCarriesTheError() {
        FalEmulator e = emulator();
        ProviderAccount account = account(e);
        e.faults().failJobs(1, "The content was flagged", false);
        assertThat(pollUntilDone(account, provider.submit(account, flux("a", 1))))
                .isEqualTo(new RemoteStatus.Failed("fal_422", "The content was flagged", false));
        e.faults().failJobs(1, "CUDA out of memory", true);
        assertThat(pollUntilDone(account, provider.submit(account, flux("b", 1))))
                .isEqualTo(new RemoteStatus.Failed("fal_500", "CUDA out of memory", true));
    }

    @Test
    void aRequestThatNeverCompletesIsCancelledWithItsCancelUrl() {
        FalEmulator e = emulator();
        ProviderAccount account = account(e);
        e.faults().neverComplete(1);
        Submitted s = provider.submit(account, flux("forever", 1));
        RemoteRef ref = new RemoteRef(s.remoteId(), s.remote());
        assertThat(provider.poll(account, ref)).isInstanceOf(RemoteStatus.Pending.class);
        provider.cancel(account, ref);
        assertThat(e.status(s.remoteId())).isEqualTo("CANCELED");
        provider.cancel(account, ref); // again: not an error
        Submitted done = provider.submit(account, flux("done", 1));
        pollUntilDone(account, done);
        provider.cancel(account, new RemoteRef(done.remoteId(), done.remote())); // ALREADY_COMPLETED: not an error
    }

    @Test
    void anExpiredOutputIsNotFound() throws InterruptedException {
        FalEmulator e = emulator(config().withOutputTtl(Duration.ofMillis(300)));
        ProviderAccount account = account(e);
        OutputRef out = ((RemoteStatus.Succeeded) pollUntilDone(account, provider.submit(account, flux("fleeting", 1)))).outputs().getFirst();
        e.faults().expireOutputs(1);
        assertThatThrownBy(() -> provider.open(account, out)).isInstanceOf(ProviderException.NotFound.class);
        Thread.sleep(500);
        assertThatThrownBy(() -> provider.open(account, out)).isInstanceOf(ProviderException.NotFound.class);
    }

    // ---- webhooks

    @Test
    void theEmulatorsEd25519WebhookVerifiesAgainstItsJwks() throws Exception {
        FalEmulator e = emulator();
        try (WebhookCatcher hooks = new WebhookCatcher()) {
            Submitted s = provider.submit(account(e), flux("hooked", 1, 1, "png", hooks.url()));
            assertThat(e.submissions().getFirst().webhook()).isEqualTo(hooks.url());
            WebhookDelivery d = hooks.next(Duration.ofSeconds(5));
            assertThat(d).isNotNull();
            var body = Json.MAPPER.readTree(d.body());
            assertThat(body.path("status").asString()).isEqualTo("OK");
            assertThat(body.path("payload").path("images").get(0).path("url").asString()).contains("/files/");
            assertThat(provider.verifyWebhook(account(e), d).remoteId()).isEqualTo(s.remoteId());

            // A key rotation: the cached key no longer verifies, so the JWKS is read again.
            e.rotateWebhookKey();
            provider.submit(account(e), flux("rotated", 1, 1, "png", hooks.url()));
            WebhookDelivery after = hooks.next(Duration.ofSeconds(5));
            assertThat(provider.verifyWebhook(account(e), after).remoteId()).isEqualTo(after.header("X-Fal-Webhook-Request-Id"));
        }
    }

    @Test
    void forgedStaleTamperedAndIncompleteWebhooksAreRefused() throws Exception {
        FalEmulator e = emulator();
        try (WebhookCatcher hooks = new WebhookCatcher()) {
            e.faults().forgeWebhookSignatures(1);
            provider.submit(account(e), flux("forged", 1, 1, "png", hooks.url()));
            WebhookDelivery forged = hooks.next(Duration.ofSeconds(5));
            assertThatThrownBy(() -> provider.verifyWebhook(account(e), forged)).isInstanceOf(WebhookRejected.class).hasMessageContaining("signature");

            provider.submit(account(e), flux("genuine", 1, 1, "png", hooks.url()));
            WebhookDelivery good = hooks.next(Duration.ofSeconds(5));
            assertThatThrownBy(() -> provider.verifyWebhook(account(e), new WebhookDelivery(good.headers(), good.body(), good.receivedAt().plusSeconds(400))))
                    .isInstanceOf(WebhookRejected.class).hasMessageContaining("Timestamp");
            byte[] tampered = new String(good.body()).replace("\"OK\"", "\"ERROR\"").getBytes();
            assertThatThrownBy(() -> provider.verifyWebhook(account(e), new WebhookDelivery(good.headers(), tampered, good.receivedAt())))
                    .isInstanceOf(WebhookRejected.class);
            assertThatThrownBy(() -> provider.verifyWebhook(account(e), new WebhookDelivery(Map.of(), good.body(), good.receivedAt())))
                    .isInstanceOf(WebhookRejected.class).hasMessageContaining("missing");
            ProviderAccount noJwks = new ProviderAccount("acc-n", "fal", "n", e.baseUrl(), KEY, Map.of(), false);
            assertThatThrownBy(() -> provider.verifyWebhook(noJwks, good)).isInstanceOf(WebhookRejected.class);
        }
    }

    @Test
    void duplicatedLostAndOutOfOrderWebhooks() throws Exception {
        FalEmulator e = emulator();
        ProviderAccount account = account(e);
        try (WebhookCatcher hooks = new WebhookCatcher()) {
            e.faults().duplicateWebhooks(1);
            provider.submit(account, flux("twice", 1, 1, "png", hooks.url()));
            WebhookDelivery a = hooks.next(Duration.ofSeconds(5)), b = hooks.next(Duration.ofSeconds(5));
            assertThat(provider.verifyWebhook(account, a).remoteId()).isEqualTo(provider.verifyWebhook(account, b).remoteId());

            e.faults().dropWebhooks(1);
            provider.submit(account, flux("lost", 1, 1, "png", hooks.url()));
            assertThat(hooks.next(Duration.ofMillis(700))).isNull();

            e.faults().reorderWebhooks(1);
            Submitted first = provider.submit(account, flux("first", 1, 1, "png", hooks.url()));
            Submitted second = provider.submit(account, flux("second", 1, 1, "png", hooks.url()));
            WebhookDelivery x = hooks.next(Duration.ofSeconds(5)), y = hooks.next(Duration.ofSeconds(5));
            assertThat(provider.verifyWebhook(account, x).remoteId()).isEqualTo(second.remoteId());
            assertThat(provider.verifyWebhook(account, y).remoteId()).isEqualTo(first.remoteId());
        }
    }
}

package dev.kiln.emulator.wavespeed;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Sends the one webhook per task that WaveSpeed sends when a task completes or fails: the bare
 * prediction as body, signed {@code v3,<hex HMAC-SHA256 of "{id}.{timestamp}.{body}">} with the
 * secret minus its {@code whsec_} prefix used as raw text (not base64-decoded, unlike Svix).
 * Failed deliveries (no answer, non-2xx) are retried a few times with a growing pause.
 */
final class WaveSpeedWebhooks implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WaveSpeedWebhooks.class.getName());

    private final String secret;
    private final WaveSpeedFaults faults;
    private final int attempts;
    private final Duration retryDelay;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "wavespeed-emulator-webhooks");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient client;

    WaveSpeedWebhooks(String secret, WaveSpeedFaults faults, int attempts, Duration retryDelay) {
        this.secret = secret;
        this.faults = faults;
        this.attempts = attempts;
        this.retryDelay = retryDelay;
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).executor(workers).build();
    }

    /** Sends the webhook of {@code p} when it finishes; {@code body} renders the prediction then. */
    void schedule(WaveSpeedPrediction p, Supplier<byte[]> body) {
        long wait = p.nanosUntilReady();
        if (wait < 0) return; // never finishes: no webhook
        timer.schedule(() -> workers.execute(() -> deliver(p, body)), wait, TimeUnit.NANOSECONDS);
    }

    private void deliver(WaveSpeedPrediction p, Supplier<byte[]> body) {
        if (!p.terminal() || p.status().equals(WaveSpeedPrediction.CANCELLED)) return;
        if (faults.takeWebhookDropped()) return;
        boolean forged = faults.takeWebhookForged();
        int copies = faults.takeWebhookDuplicated() ? 2 : 1;
        byte[] bytes = body.get();
        String webhookId = "msg_" + WaveSpeedEmulator.newId();
        for (int i = 0; i < copies; i++) send(p, webhookId, bytes, forged);
    }

    private void send(WaveSpeedPrediction p, String webhookId, byte[] body, boolean forged) {
        for (int attempt = 1; attempt <= attempts; attempt++) {
            String ts = Long.toString(Instant.now().getEpochSecond());
            String key = forged ? secret + "-forged" : secret;
            HttpRequest req = HttpRequest.newBuilder(URI.create(p.webhook))
                    .timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .header("webhook-id", webhookId)
                    .header("webhook-timestamp", ts)
                    .header("webhook-signature", signature(key, webhookId, ts, body))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
            try {
                int status = client.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status / 100 == 2) return;
                LOG.log(System.Logger.Level.DEBUG, "webhook for {0} answered {1} (attempt {2})", p.id, status, attempt);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "webhook for {0} failed: {1} (attempt {2})", p.id, e, attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (attempt < attempts) {
                try {
                    Thread.sleep(retryDelay.multipliedBy(attempt));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** {@code v3,<hex>} over {@code "{id}.{timestamp}.{body}"}, keyed with the secret's text after {@code whsec_}. */
    static String signature(String secret, String webhookId, String timestamp, byte[] body) {
        String key = secret.startsWith("whsec_") ? secret.substring("whsec_".length()) : secret;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((webhookId + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return "v3," + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        workers.shutdownNow();
        client.close();
    }
}

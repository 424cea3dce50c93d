package dev.kiln.engine;

import dev.kiln.support.SecretBox;
import dev.kiln.asset.AssetService;
import dev.kiln.job.Outbox;
import jakarta.annotation.PreDestroy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Delivers the outbox: a POST per job event to the webhook the client gave, signed the Standard
 * Webhooks way ({@code webhook-id}, {@code webhook-timestamp},
 * {@code webhook-signature: v1,<base64 HMAC-SHA256>}) with the secret from
 * {@code GET /v1/webhook-secret}. Failed deliveries are retried with backoff for about a day.
 */
@Component
public class OutboxSender {
    private static final Logger log = LoggerFactory.getLogger(OutboxSender.class);
    static final int MAX_ATTEMPTS = 10;
    private final Outbox outbox;
    private final AssetService urls;
    private final Clock clock;
    private final byte[] key;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NEVER)
            .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
    private final Signal signal = new Signal();
    private volatile boolean running;
    private Thread loop;

    OutboxSender(Outbox outbox, AssetService urls, SecretBox secrets, Clock clock) {
        this.outbox = outbox;
        this.urls = urls;
        this.clock = clock;
        this.key = secrets.derive("outbound-webhooks");
    }

    /** The signing secret, as clients configure it in their verifier. */
    public String secret() {
        return "whsec_" + Base64.getEncoder().encodeToString(key);
    }

    @EventListener(ApplicationReadyEvent.class)
    void start() {
        running = true;
        loop = Thread.ofVirtual().name("kiln-outbox").start(this::run);
    }

    @PreDestroy
    void stop() {
        running = false;
        if (loop != null) loop.interrupt();
    }

    void wake() {
        signal.signal();
    }

    private void run() {
        while (running) {
            try {
                List<Outbox.Delivery> due = outbox.due(clock.instant(), 50);
                for (Outbox.Delivery d : due) deliver(d);
                if (due.size() < 50) signal.await(Duration.ofSeconds(1));
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("outbox round failed: {}", e.toString());
            }
        }
    }

    void deliver(Outbox.Delivery d) {
        String refusal = urls.refusalForCallback(d.url());
        if (refusal != null) {
            outbox.failed(d.id(), "refused: " + refusal, null);
            return;
        }
        String id = "msg_" + d.id();
        long ts = clock.instant().getEpochSecond();
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create(d.url())).timeout(Duration.ofSeconds(15))
                    .header("Content-Type", "application/json").header("User-Agent", "Kiln webhooks")
                    .header("webhook-id", id).header("webhook-timestamp", Long.toString(ts))
                    .header("webhook-signature", "v1," + sign(id + "." + ts + "." + d.payload()))
                    .POST(HttpRequest.BodyPublishers.ofString(d.payload())).build();
            int status = http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status / 100 == 2) {
                outbox.delivered(d.id(), clock.instant());
                return;
            }
            retry(d, "HTTP " + status);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            retry(d, e.getClass().getSimpleName());
        }
    }

    private void retry(Outbox.Delivery d, String error) {
        Instant next = d.attempts() + 1 >= MAX_ATTEMPTS ? null
                : clock.instant().plus(Backoff.of(Duration.ofSeconds(5), 3, Duration.ofHours(4), d.attempts()));
        outbox.failed(d.id(), error, next);
        if (next == null) log.warn("gave up delivering {} for job {} to its webhook: {}", d.event(), d.jobId(), error);
    }

    private String sign(String content) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return Base64.getEncoder().encodeToString(mac.doFinal(content.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 *
 * <p>Each receiver ({@code scheme://host:port}) has its own worker, which sends its deliveries in
 * order, one at a time; the loop here only hands due deliveries to idle receivers. So a receiver
 * that answers slowly or not at all (each try may take {@link #TIMEOUT}) delays its own
 * notifications and no one else's. At most {@link #MAX_RECEIVERS} receivers are served at once.
 */
@Component
public class OutboxSender {
    private static final Logger log = LoggerFactory.getLogger(OutboxSender.class);
    static final int MAX_ATTEMPTS = 10;
    static final int MAX_RECEIVERS = 64;
    static final Duration TIMEOUT = Duration.ofSeconds(15);
    /** A delivery being sent is not due again for this long (longer than a connect plus {@link #TIMEOUT}). */
    static final Duration CLAIM = Duration.ofMinutes(2);
    private final Outbox outbox;
    private final AssetService urls;
    private final Clock clock;
    private final byte[] key;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NEVER)
            .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
    private final Signal signal = new Signal();
    /** Receivers being served, each by its own virtual thread. */
    private final Map<String, Thread> workers = new ConcurrentHashMap<>();
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
        workers.values().forEach(Thread::interrupt);
    }

    void wake() {
        signal.signal();
    }

    private void run() {
        while (running) {
            try {
                if (workers.size() < MAX_RECEIVERS) {
                    Map<String, List<Outbox.Delivery>> byReceiver = new LinkedHashMap<>();
                    for (Outbox.Delivery d : outbox.due(clock.instant(), 200, Set.copyOf(workers.keySet()))) {
                        byReceiver.computeIfAbsent(d.receiver(), r -> new ArrayList<>()).add(d);
                    }
                    for (Map.Entry<String, List<Outbox.Delivery>> e : byReceiver.entrySet()) {
                        if (workers.size() >= MAX_RECEIVERS) break;
                        serve(e.getKey(), e.getValue());
                    }
                }
                signal.await(Duration.ofSeconds(1));
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                Loops.survive(log, "outbox round", t);
            }
        }
    }

    private void serve(String receiver, List<Outbox.Delivery> first) {
        Thread worker = Thread.ofVirtual().name("kiln-outbox-worker").unstarted(() -> work(receiver, first));
        if (workers.putIfAbsent(receiver, worker) == null) worker.start();
    }

    /** Sends a receiver's due deliveries in order until none is left, then frees the receiver. */
    private void work(String receiver, List<Outbox.Delivery> first) {
        try {
            List<Outbox.Delivery> batch = first;
            while (running && !batch.isEmpty()) {
                for (Outbox.Delivery d : batch) {
                    if (!running || Thread.currentThread().isInterrupted()) return;
                    Instant now = clock.instant();
                    if (outbox.claim(d.id(), now, now.plus(CLAIM))) deliver(d);
                }
                batch = outbox.dueFor(receiver, clock.instant(), 20);
            }
        } catch (Throwable t) {
            // The claimed deliveries come due again after CLAIM; the next round serves this receiver anew.
            Loops.survive(log, "delivering to a client webhook", t);
        } finally {
            workers.remove(receiver);
            signal.signal();
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
            HttpRequest req = HttpRequest.newBuilder(URI.create(d.url())).timeout(TIMEOUT)
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

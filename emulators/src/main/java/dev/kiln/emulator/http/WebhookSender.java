package dev.kiln.emulator.http;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Timed webhook deliveries for the Replicate and fal emulators: a POST with headers the caller
 * signed, retried a few times with a growing pause when it gets no 2xx (each retry signed anew by
 * the supplier, as the services do with their timestamps).
 */
public final class WebhookSender implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WebhookSender.class.getName());

    /** One signed delivery: headers and body. */
    public record Signed(Map<String, String> headers, byte[] body) {}

    private final int attempts;
    private final Duration retryDelay;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final ScheduledExecutorService timer;
    private final HttpClient client;

    public WebhookSender(String name, int attempts, Duration retryDelay) {
        this.attempts = attempts;
        this.retryDelay = retryDelay;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name + "-webhooks");
            t.setDaemon(true);
            return t;
        });
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).executor(workers).build();
    }

    /** Runs {@code task} on a virtual thread after {@code nanos}. */
    public void after(long nanos, Runnable task) {
        try {
            timer.schedule(() -> workers.execute(task), Math.max(0, nanos), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed
        }
    }

    /** POSTs to {@code url} until a 2xx or the attempts are used up; {@code signed} builds each attempt. */
    public void deliver(String url, Supplier<Signed> signed) {
        for (int attempt = 1; attempt <= attempts; attempt++) {
            Signed s = signed.get();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(s.body()));
            s.headers().forEach(b::header);
            try {
                int status = client.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status / 100 == 2) return;
                LOG.log(System.Logger.Level.DEBUG, "webhook to {0} answered {1} (attempt {2})", url, status, attempt);
            } catch (IOException | IllegalArgumentException e) {
                LOG.log(System.Logger.Level.DEBUG, "webhook to {0} failed: {1} (attempt {2})", url, e, attempt);
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

    @Override
    public void close() {
        timer.shutdownNow();
        workers.shutdownNow();
        client.close();
    }
}

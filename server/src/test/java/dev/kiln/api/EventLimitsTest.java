package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.testing.LimitedKilnTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * {@code /v1/events} with KILN_EVENTS_MAX_SUBSCRIBERS=3, KILN_EVENTS_IDLE_TIMEOUT=2.5s and
 * KILN_EVENTS_BUFFER=16: a fourth stream is refused, an idle one is closed, and a reader that does
 * not read is dropped while the engine carries on.
 */
class EventLimitsTest extends LimitedKilnTest {

    double metric(String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*})? ([0-9.E+-]+)$").matcher(http.get("/metrics").text());
        return m.find() ? Double.parseDouble(m.group(2)) : 0;
    }

    HttpResponse<InputStream> open() throws IOException, InterruptedException {
        return http.client().send(HttpRequest.newBuilder(http.uri("/v1/events")).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** Reads a stream to its end, failing (not hanging) if it does not end in time. */
    static String readAll(InputStream in, Duration max) throws Exception {
        CompletableFuture<String> all = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, Executors.newVirtualThreadPerTaskExecutor());
        try {
            return all.get(max.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            in.close();
            throw new AssertionError("the stream did not end within " + max);
        }
    }

    @Test
    void aStreamBeyondTheCapIsRefusedWith429() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> metric("kiln_event_subscribers") == 0);
        List<HttpResponse<InputStream>> streams = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                HttpResponse<InputStream> r = open();
                assertThat(r.statusCode()).isEqualTo(200);
                streams.add(r);
            }
            HttpResponse<InputStream> fourth = open();
            if (fourth.statusCode() == 200) fourth.body().close();
            assertThat(fourth.statusCode()).isEqualTo(429);
            String body = readAll(fourth.body(), Duration.ofSeconds(5));
            assertThat(fourth.headers().firstValue("content-type").orElse("")).startsWith("application/problem+json");
            assertThat(fourth.headers().firstValue("retry-after")).isPresent();
            assertThat(body).contains("KILN_EVENTS_MAX_SUBSCRIBERS");
        } finally {
            for (HttpResponse<InputStream> r : streams) r.body().close();
        }
        // Closed or idle, the streams free their places.
        await().atMost(Duration.ofSeconds(20)).until(() -> metric("kiln_event_subscribers") == 0);
        HttpResponse<InputStream> again = open();
        assertThat(again.statusCode()).isEqualTo(200);
        again.body().close();
    }

    @Test
    void aStreamWithoutEventsIsClosedAfterTheIdleTimeout() throws Exception {
        // A job that has finished: its stream has nothing more to say (a job id nobody owns answers 404).
        String done = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"quiet\",\"params\":{\"width\":64,\"height\":64}}");
        awaitJob(done, Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(10)).until(() -> metric("kiln_event_subscribers") < 3);
        long start = System.nanoTime();
        HttpResponse<InputStream> r = http.client().send(HttpRequest.newBuilder(http.uri("/v1/events?job=" + done)).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        String all = readAll(r.body(), Duration.ofSeconds(12));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(12));
        assertThat(all).contains(":connected").contains("idle for");
    }

    @Test
    void aReaderThatDoesNotReadIsDroppedAndTheEngineGoesOn() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> metric("kiln_event_subscribers") == 0);
        double droppedBefore = metric("kiln_event_subscribers_dropped_total");
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(2048);
            s.connect(new InetSocketAddress("127.0.0.1", port));
            OutputStream out = s.getOutputStream();
            out.write("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            in.read(new byte[256]);
            await().atMost(Duration.ofSeconds(5)).until(() -> metric("kiln_event_subscribers") == 1);

            // From here on nothing is read: a run's events pile up until the reader is dropped.
            JsonNode run = http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"flood\"],\"count\":150,"
                    + "\"params\":{\"width\":64,\"height\":64}}").json();
            await().atMost(Duration.ofSeconds(30)).until(() -> metric("kiln_event_subscribers_dropped_total") > droppedBefore);
            await().atMost(Duration.ofSeconds(10)).until(() -> metric("kiln_event_subscribers") == 0);
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() ->
                    http.get("/v1/runs/" + run.get("id").asString()).json().get("status").asString().equals("succeeded"));
        }
    }
}

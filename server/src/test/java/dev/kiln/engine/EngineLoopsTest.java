package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.testing.LimitedKilnTest;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The dispatcher, tracker and outbox loops meet {@link Error}s mid-round — as an
 * {@link OutOfMemoryError} or a bug's {@link AssertionError} would strike — and go on: jobs
 * submitted afterwards are still dispatched, tracked, finished and notified.
 */
class EngineLoopsTest extends LimitedKilnTest {

    @Test
    void theLoopsSurviveAnyThrowable() throws Exception {
        List<String> notified = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", x -> {
            notified.add(new String(x.getRequestBody().readAllBytes()));
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        receiver.start();
        try {
            clock.failOn("kiln-dispatcher", new OutOfMemoryError("test: dispatcher"), new StackOverflowError(),
                    new AssertionError("test"), new IllegalStateException("test"));
            clock.failOn("kiln-tracker", new OutOfMemoryError("test: tracker"), new NoClassDefFoundError("test"));
            clock.failOn("kiln-outbox", new OutOfMemoryError("test: outbox"), new LinkageError("test"));
            await().atMost(Duration.ofSeconds(20)).until(() -> clock.pending() == 0);

            // Dispatcher and outbox: a job runs and its webhook is called.
            String id = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"after the errors\",\"params\":{\"width\":64,\"height\":64},"
                    + "\"webhook\":{\"url\":\"http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook\"}}");
            assertThat(awaitJob(id, Duration.ofSeconds(30)).get("status").asString()).isEqualTo("succeeded");
            await().atMost(Duration.ofSeconds(20)).until(() -> notified.stream().anyMatch(n -> n.contains(id)));

            // Tracker: this model's first poll is 20 s after submission, so only the tracker's loop can finish it.
            String tracked = submitJob("{\"model\":\"test-runpod-webhook\",\"prompt\":\"tracked\"}");
            assertThat(awaitJob(tracked, Duration.ofSeconds(60)).get("status").asString()).isEqualTo("succeeded");
        } finally {
            receiver.stop(0);
        }
    }
}

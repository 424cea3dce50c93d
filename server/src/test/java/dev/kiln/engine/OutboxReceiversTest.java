package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.testing.KilnIntegrationTest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Client webhooks go out receiver by receiver: a receiver that hangs delays its own notifications, no one else's. */
class OutboxReceiversTest extends KilnIntegrationTest {
    HttpServer slow;
    HttpServer fast;
    final CountDownLatch release = new CountDownLatch(1);
    final List<String> slowGot = new CopyOnWriteArrayList<>();
    final List<Long> fastGotAt = new CopyOnWriteArrayList<>();

    @BeforeEach
    void receivers() throws IOException {
        slow = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        slow.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        slow.createContext("/hook", x -> {
            slowGot.add(new String(x.getRequestBody().readAllBytes()));
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        slow.start();
        fast = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        fast.createContext("/hook", x -> {
            x.getRequestBody().readAllBytes();
            fastGotAt.add(System.nanoTime());
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        fast.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        slow.stop(0);
        fast.stop(0);
    }

    String job(HttpServer receiver) {
        return submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"outbox\",\"params\":{\"width\":64,\"height\":64},"
                + "\"webhook\":{\"url\":\"http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook\"}}");
    }

    @Test
    void aHangingReceiverDelaysNoOneElse() {
        List<String> slowJobs = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) slowJobs.add(job(slow));
        await().atMost(Duration.ofSeconds(20)).until(() -> !slowGot.isEmpty());

        String id = job(fast);
        awaitJob(id, Duration.ofSeconds(20));
        long finished = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).until(() -> !fastGotAt.isEmpty());
        assertThat(Duration.ofNanos(fastGotAt.getFirst() - finished)).isLessThan(Duration.ofSeconds(5));
        assertThat(slowGot).as("the slow receiver is still on its first delivery").hasSize(1);

        release.countDown();
        await().atMost(Duration.ofSeconds(40)).until(() -> slowGot.size() >= 3);
        slowJobs.forEach(j -> awaitJob(j, Duration.ofSeconds(20)));
    }
}

package dev.kiln.emulator.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A real HTTP endpoint on 127.0.0.1 that records the webhooks an emulator sends. */
public final class WebhookCatcher implements AutoCloseable {
    /** One delivery as received: headers (names case-insensitive) and body. */
    public record Delivery(Map<String, List<String>> headers, byte[] body) {
        public String header(String name) {
            List<String> v = headers.get(name);
            return v == null || v.isEmpty() ? null : v.getFirst();
        }
    }

    private final HttpServer server;
    private final BlockingQueue<Delivery> received = new LinkedBlockingQueue<>();

    public WebhookCatcher() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", ex -> {
            try (ex) {
                byte[] body = ex.getRequestBody().readAllBytes();
                Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                ex.getRequestHeaders().forEach((k, v) -> headers.put(k, List.copyOf(v)));
                received.add(new Delivery(headers, body));
                ex.sendResponseHeaders(200, -1);
            }
        });
        server.start();
    }

    /** The URL to hand out, with a query like Kiln's. */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/webhooks/test?token=t0k";
    }

    /** The next delivery, or null after {@code max}. */
    public Delivery next(Duration max) throws InterruptedException {
        return received.poll(max.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SafeFetcherTest {
    private static final byte[] IMAGE = TestImages.png(20, 10);

    private HttpServer server;
    private String base;
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        hits.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
        try (ex) {
            switch (path) {
                case "/image.png" -> {
                    ex.getResponseHeaders().add("Content-Type", "image/png");
                    ex.sendResponseHeaders(200, IMAGE.length);
                    ex.getResponseBody().write(IMAGE);
                }
                case "/relative" -> redirect(ex, "image.png");
                case "/to-loopback" -> redirect(ex, "http://127.0.0.2:" + server.getAddress().getPort() + "/image.png");
                case "/to-metadata" -> redirect(ex, "http://169.254.169.254/latest/meta-data/");
                case "/to-mapped" -> redirect(ex, "http://[::ffff:10.0.0.1]/x.png");
                case "/to-file" -> redirect(ex, "file:///etc/passwd");
                case "/loop" -> redirect(ex, "/loop");
                case "/no-location" -> ex.sendResponseHeaders(302, -1);
                case "/declared-large" -> {
                    ex.sendResponseHeaders(200, 21L * 1024 * 1024);
                    ex.getResponseBody().write(new byte[1024]);
                    ex.getResponseBody().flush();
                    await();
                }
                case "/streamed-large" -> {
                    ex.sendResponseHeaders(200, 0); // chunked: no Content-Length
                    OutputStream out = ex.getResponseBody();
                    for (int i = 0; i < 4; i++) out.write(new byte[1024]);
                }
                case "/stall" -> {
                    ex.sendResponseHeaders(200, 0);
                    ex.getResponseBody().write(new byte[100]);
                    ex.getResponseBody().flush();
                    await();
                }
                case "/slow-answer" -> {
                    await();
                    ex.sendResponseHeaders(200, -1);
                }
                default -> ex.sendResponseHeaders(404, -1);
            }
        } catch (IOException clientWentAway) {
            // The fetcher closes early on refusals; that is the point of several tests.
        }
    }

    private void await() {
        try {
            release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void redirect(HttpExchange ex, String location) throws IOException {
        ex.getResponseHeaders().add("Location", location);
        ex.sendResponseHeaders(302, -1);
    }

    private int hits(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    /** Production rules, except that this test's own server at 127.0.0.1 counts as public. */
    private static String onlyTestServerIsPublic(InetAddress a) {
        return a.getHostAddress().equals("127.0.0.1") ? null : SafeFetcher.forbiddenKind(a);
    }

    private SafeFetcher fetcher(long maxBytes, Duration bodyTimeout) {
        return new SafeFetcher(false, maxBytes, Duration.ofSeconds(2), Duration.ofSeconds(2), bodyTimeout,
                InetAddress::getAllByName, SafeFetcherTest::onlyTestServerIsPublic);
    }

    private SafeFetcher fetcher() {
        return fetcher(SafeFetcher.DEFAULT_MAX_BYTES, Duration.ofSeconds(5));
    }

    private static byte[] get(SafeFetcher f, String url) throws IOException {
        return f.fetch(url, (in, type) -> in.readAllBytes());
    }

    @Test
    void loopbackIsRefusedByDefaultBeforeAnyRequest() {
        assertThatThrownBy(() -> get(new SafeFetcher(false), base + "/image.png"))
                .isInstanceOf(MediaException.class)
                .hasMessage("refused: 127.0.0.1 is a loopback address; set KILN_ALLOW_PRIVATE_URLS=true to allow");
        assertThatThrownBy(() -> get(new SafeFetcher(false), "http://localhost:" + server.getAddress().getPort() + "/image.png"))
                .isInstanceOf(MediaException.class)
                .hasMessageStartingWith("refused: localhost resolves to a loopback address (");
        assertThat(hits("/image.png")).isZero();
    }

    @Test
    void loopbackIsAllowedWithTheFlag() throws IOException {
        assertThat(get(new SafeFetcher(true), base + "/image.png")).isEqualTo(IMAGE);
    }

    @Test
    void passesTheContentTypeAlong() throws IOException {
        String type = fetcher().fetch(base + "/image.png", (in, t) -> t);
        assertThat(type).isEqualTo("image/png");
    }

    @Test
    void namesThatResolveToPrivateAddressesAreRefused() {
        SafeFetcher f = new SafeFetcher(false, SafeFetcher.DEFAULT_MAX_BYTES, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(1), host -> {
                    if (host.equals("example.internal")) return new InetAddress[] {InetAddress.getByName("10.1.2.3")};
                    if (host.equals("mixed.example")) {
                        return new InetAddress[] {InetAddress.getByName("93.184.216.34"), InetAddress.getByName("192.168.1.1")};
                    }
                    throw new UnknownHostException(host);
                }, SafeFetcher::forbiddenKind);
        assertThatThrownBy(() -> get(f, "https://example.internal/cat.png"))
                .hasMessage("refused: example.internal resolves to a private address (10.1.2.3); set KILN_ALLOW_PRIVATE_URLS=true to allow");
        assertThatThrownBy(() -> get(f, "https://mixed.example/cat.png"))
                .hasMessage("refused: mixed.example resolves to a private address (192.168.1.1); set KILN_ALLOW_PRIVATE_URLS=true to allow");
        assertThatThrownBy(() -> get(f, "https://nowhere.invalid/cat.png"))
                .hasMessage("could not be fetched: the host nowhere.invalid does not resolve");
    }

    @Test
    void followsRelativeRedirects() throws IOException {
        assertThat(get(fetcher(), base + "/relative")).isEqualTo(IMAGE);
    }

    @Test
    void redirectsToPrivateAddressesAreRefused() {
        assertThatThrownBy(() -> get(fetcher(), base + "/to-loopback"))
                .isInstanceOf(MediaException.class)
                .hasMessage("refused: redirect target 127.0.0.2 is a loopback address; set KILN_ALLOW_PRIVATE_URLS=true to allow");
        assertThatThrownBy(() -> get(fetcher(), base + "/to-metadata"))
                .hasMessage("refused: redirect target 169.254.169.254 is a link-local address; set KILN_ALLOW_PRIVATE_URLS=true to allow");
        assertThatThrownBy(() -> get(fetcher(), base + "/to-mapped"))
                .hasMessage("refused: redirect target ::ffff:10.0.0.1 is a private address; set KILN_ALLOW_PRIVATE_URLS=true to allow");
        assertThatThrownBy(() -> get(fetcher(), base + "/to-file"))
                .hasMessage("redirects to a URL that is not http:// or https://");
        assertThat(hits("/image.png")).isZero();
    }

    @Test
    void redirectsAreFollowedAtMostFiveTimes() {
        assertThatThrownBy(() -> get(fetcher(), base + "/loop")).hasMessage("redirected more than 5 times");
        assertThat(hits("/loop")).isEqualTo(6);
        assertThatThrownBy(() -> get(fetcher(), base + "/no-location")).hasMessage("answered HTTP 302 without a Location to follow");
    }

    @Test
    void tooLargeByContentLengthIsRefusedWithoutReading() {
        assertThatThrownBy(() -> get(fetcher(), base + "/declared-large"))
                .isInstanceOf(MediaException.class).hasMessage("is larger than 20 MB");
    }

    @Test
    void tooLargeWhileStreamingIsRefused() {
        assertThatThrownBy(() -> get(fetcher(3000, Duration.ofSeconds(5)), base + "/streamed-large"))
                .isInstanceOf(MediaException.class).hasMessage("is larger than 3000 bytes");
    }

    @Test
    void onlyHttpAndHttpsAreFetched() {
        assertThatThrownBy(() -> get(fetcher(), "ftp://example.com/a.png")).hasMessage("must be an http:// or https:// URL");
        assertThatThrownBy(() -> get(fetcher(), "file:///etc/passwd")).hasMessage("must be an http:// or https:// URL");
        assertThatThrownBy(() -> get(fetcher(), "gopher://127.0.0.1:6379/_FLUSHALL")).hasMessage("must be an http:// or https:// URL");
        assertThatThrownBy(() -> get(fetcher(), "http://exa mple.com/")).hasMessage("is not a valid URL");
    }

    @Test
    void errorStatusesAreReported() {
        assertThatThrownBy(() -> get(fetcher(), base + "/missing.png")).isInstanceOf(MediaException.class).hasMessage("answered HTTP 404");
    }

    @Test
    void aStalledBodyTimesOut() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> get(fetcher(SafeFetcher.DEFAULT_MAX_BYTES, Duration.ofMillis(300)), base + "/stall"))
                .isInstanceOf(MediaException.class).hasMessage("could not be fetched: the download took longer than 300 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void aSlowAnswerTimesOut() {
        SafeFetcher f = new SafeFetcher(false, 1000, Duration.ofSeconds(1), Duration.ofMillis(300), Duration.ofSeconds(5),
                InetAddress::getAllByName, SafeFetcherTest::onlyTestServerIsPublic);
        assertThatThrownBy(() -> get(f, base + "/slow-answer"))
                .hasMessage("could not be fetched: no answer within 300 ms");
    }

    @Test
    void aClosedPortIsReportedWithoutInternals() throws IOException {
        int port;
        try (var s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> get(fetcher(), "http://127.0.0.1:" + port + "/x.png"))
                .hasMessage("could not be fetched: the connection was refused");
    }

    @Test
    void classifiesAddresses() throws UnknownHostException {
        Map<String, String> expected = new java.util.LinkedHashMap<>();
        expected.put("127.0.0.1", "a loopback address");
        expected.put("127.255.0.9", "a loopback address");
        expected.put("10.0.0.1", "a private address");
        expected.put("172.16.0.1", "a private address");
        expected.put("172.31.255.255", "a private address");
        expected.put("192.168.0.1", "a private address");
        expected.put("169.254.169.254", "a link-local address");
        expected.put("100.64.0.1", "a shared (CGNAT) address");
        expected.put("100.127.255.254", "a shared (CGNAT) address");
        expected.put("0.0.0.0", "an unspecified address");
        expected.put("224.0.0.1", "a multicast address");
        expected.put("255.255.255.255", "a broadcast address");
        expected.put("::", "an unspecified address");
        expected.put("::1", "a loopback address");
        expected.put("fe80::1", "a link-local address");
        expected.put("febf::1", "a link-local address");
        expected.put("fc00::1", "a unique-local address");
        expected.put("fd12:3456::1", "a unique-local address");
        expected.put("ff02::1", "a multicast address");
        expected.put("::ffff:127.0.0.1", "a loopback address");
        expected.put("::ffff:169.254.169.254", "a link-local address");
        expected.put("::10.0.0.1", "a private address");
        expected.put("::127.0.0.1", "a loopback address");
        expected.put("64:ff9b::a9fe:a9fe", "a link-local address");
        for (String ip : new String[] {"8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1",
                "192.169.0.1", "169.253.1.1", "93.184.216.34", "2606:4700:4700::1111", "2001:db8::1", "::ffff:8.8.8.8"}) {
            expected.put(ip, null);
        }
        expected.forEach((ip, kind) ->
                assertThat(SafeFetcher.forbiddenKind(parse(ip))).as(ip).isEqualTo(kind));
    }

    /** Ranges the first review let through: benchmarking, IETF protocol assignments, and 6to4 (which relays to any IPv4 host). */
    @Test
    void refusesBenchmarkingProtocolAnd6to4Addresses() {
        Map<String, String> expected = new java.util.LinkedHashMap<>();
        expected.put("198.18.0.1", "a benchmarking address");
        expected.put("198.19.255.254", "a benchmarking address");
        expected.put("192.0.0.1", "an IETF protocol address");
        expected.put("192.0.0.170", "an IETF protocol address");
        expected.put("2002:c0a8:101::1", "a 6to4 address");
        expected.put("2002:808:808::1", "a 6to4 address");
        expected.put("::ffff:198.18.0.1", "a benchmarking address");
        for (String ip : new String[] {"198.17.255.255", "198.20.0.1", "192.0.1.1", "192.0.3.1", "2003::1"}) {
            expected.put(ip, null);
        }
        expected.forEach((ip, kind) -> assertThat(SafeFetcher.forbiddenKind(parse(ip))).as(ip).isEqualTo(kind));
    }

    private static InetAddress parse(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(ip, e);
        }
    }

    @Test
    void readingByteByByteIsBoundedToo() {
        assertThatThrownBy(() -> fetcher(3000, Duration.ofSeconds(5)).fetch(base + "/streamed-large", (in, type) -> {
            int n = 0;
            while (in.read() != -1) n++;
            return n;
        })).isInstanceOf(MediaException.class).hasMessage("is larger than 3000 bytes");
    }
}

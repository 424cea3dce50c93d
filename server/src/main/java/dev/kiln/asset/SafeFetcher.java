package dev.kiln.asset;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.SSLException;

/**
 * Fetches an input image from a URL a client gave, without letting that client reach what only
 * Kiln can reach (SSRF): only {@code http}/{@code https}; the host is resolved first and refused
 * if any of its addresses is loopback, private, link-local (which holds the cloud metadata address
 * 169.254.169.254), shared CGNAT, unique-local, unspecified, multicast or broadcast, including
 * those written as IPv4-mapped, IPv4-compatible or NAT64 IPv6 addresses, unless
 * {@code KILN_ALLOW_PRIVATE_URLS=true}. Redirects are followed by hand, at most
 * {@value #MAX_REDIRECTS}, and every hop is checked again. The size is limited by
 * {@code Content-Length} and again while streaming; connecting, waiting for the answer and
 * reading the body each have a time limit.
 *
 * <p>Residual risk, accepted: DNS rebinding. The JDK {@link HttpClient} resolves the host again
 * when it connects, so a name with a zero TTL could answer a public address to the check and a
 * private one to the connection. Pinning the checked address would mean connecting to the IP and
 * faking the {@code Host} header, which breaks TLS (SNI and certificate checks) for https URLs;
 * the window is a few milliseconds, the attacker must control a DNS zone, and what leaks back is
 * only an image that decodes (anything else is refused before it is stored), so the check is kept
 * simple. Deployments that need more should fetch through an egress proxy.
 *
 * <p>Every refusal is a {@link MediaException} whose message reads well after the field name.
 */
final class SafeFetcher {
    static final long DEFAULT_MAX_BYTES = 20L * 1024 * 1024;
    static final int MAX_REDIRECTS = 5;

    /** Name resolution, replaceable in tests. */
    @FunctionalInterface
    interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    /** Reads the body of a successful answer; {@code in} is bounded in size and time. */
    @FunctionalInterface
    interface Body<T> {
        T read(InputStream in, String contentType) throws IOException;
    }

    private final boolean allowPrivate;
    private final long maxBytes;
    private final Duration connectTimeout;
    private final Duration answerTimeout;
    private final Duration bodyTimeout;
    private final Resolver resolver;
    private final Function<InetAddress, String> policy;
    private final HttpClient http;
    private final ScheduledExecutorService watchdog;

    SafeFetcher(boolean allowPrivate) {
        this(allowPrivate, DEFAULT_MAX_BYTES, Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(60),
                InetAddress::getAllByName, SafeFetcher::forbiddenKind);
    }

    /**
     * @param policy names the kind of a forbidden address ("a private address"), or null if the
     *     address may be fetched; tests narrow it to let one loopback server through
     */
    SafeFetcher(boolean allowPrivate, long maxBytes, Duration connectTimeout, Duration answerTimeout,
                Duration bodyTimeout, Resolver resolver, Function<InetAddress, String> policy) {
        this.allowPrivate = allowPrivate;
        this.maxBytes = maxBytes;
        this.connectTimeout = connectTimeout;
        this.answerTimeout = answerTimeout;
        this.bodyTimeout = bodyTimeout;
        this.resolver = resolver;
        this.policy = policy;
        // Redirect.NEVER: every hop must go through check() first.
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(connectTimeout)
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiln-fetch-watchdog");
            t.setDaemon(true);
            return t;
        });
    }

    long maxBytes() { return maxBytes; }

    /**
     * Fetches {@code url} and hands the body of the final answer to {@code body}.
     *
     * @throws MediaException if the URL is refused, unreachable, not a 2xx answer, too large or too slow
     * @throws IOException what {@code body} throws for reasons of its own
     */
    <T> T fetch(String url, Body<T> body) throws IOException {
        URI uri = parse(url);
        for (int hop = 0; ; hop++) {
            check(uri, hop > 0);
            HttpResponse<InputStream> r = send(uri);
            int status = r.statusCode();
            if (isRedirect(status)) {
                String location = r.headers().firstValue("location").orElse(null);
                closeQuietly(r.body());
                if (location == null || location.isBlank()) {
                    throw new MediaException("answered HTTP " + status + " without a Location to follow");
                }
                if (hop == MAX_REDIRECTS) throw new MediaException("redirected more than " + MAX_REDIRECTS + " times");
                uri = redirectTarget(uri, location);
                continue;
            }
            if (status / 100 != 2) {
                closeQuietly(r.body());
                throw new MediaException("answered HTTP " + status);
            }
            long declared = r.headers().firstValueAsLong("content-length").orElse(-1);
            if (declared > maxBytes) {
                closeQuietly(r.body());
                throw MediaException.tooLarge(maxBytes);
            }
            try (Guarded in = new Guarded(r.body())) {
                return body.read(in, r.headers().firstValue("content-type").orElse(null));
            }
        }
    }

    /**
     * Checks that a URL may be called on a client's behalf (scheme, host, resolved addresses),
     * without fetching it; used for the webhooks clients give with their jobs.
     *
     * @throws MediaException with the reason when it may not
     */
    void checkDestination(String url) {
        check(parse(url), false);
    }

    private static URI parse(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new MediaException("is not a valid URL");
        }
        if (!isHttp(uri)) throw new MediaException("must be an http:// or https:// URL");
        if (!hasHost(uri)) throw new MediaException("is not a valid URL (it has no host)");
        return uri;
    }

    private static URI redirectTarget(URI from, String location) {
        URI to;
        try {
            to = from.resolve(new URI(location.trim()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new MediaException("redirects to an invalid URL");
        }
        if (!isHttp(to)) throw new MediaException("redirects to a URL that is not http:// or https://");
        if (!hasHost(to)) throw new MediaException("redirects to an invalid URL");
        return to;
    }

    private static boolean isHttp(URI uri) {
        return "http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme());
    }

    private static boolean hasHost(URI uri) {
        return uri.getHost() != null && !uri.getHost().isEmpty();
    }

    /** Refuses a host that resolves to any address Kiln must not reach for a client. */
    private void check(URI uri, boolean redirected) {
        String host = uri.getHost();
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        InetAddress[] addresses;
        try {
            addresses = resolver.resolve(bare);
        } catch (UnknownHostException e) {
            throw new MediaException("could not be fetched: the host " + bare + (redirected ? " (redirect target)" : "") + " does not resolve");
        }
        if (allowPrivate) return;
        for (InetAddress a : addresses) {
            String kind = policy.apply(a);
            if (kind == null) continue;
            String ip = a.getHostAddress();
            String what = redirected ? "redirect target " + bare : bare;
            boolean literal = bare.contains(":") || bare.matches("[0-9.]+");
            String where = literal ? what + " is " + kind : what + " resolves to " + kind + " (" + ip + ")";
            throw new MediaException("refused: " + where + "; set KILN_ALLOW_PRIVATE_URLS=true to allow");
        }
    }

    private HttpResponse<InputStream> send(URI uri) {
        try {
            HttpRequest req = HttpRequest.newBuilder(uri)
                    .timeout(answerTimeout)
                    .header("Accept", "image/*, */*;q=0.5")
                    .header("User-Agent", "Kiln (input image fetch)")
                    .GET()
                    .build();
            return http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpConnectTimeoutException e) {
            throw new MediaException("could not be fetched: no connection within " + seconds(connectTimeout));
        } catch (HttpTimeoutException e) {
            throw new MediaException("could not be fetched: no answer within " + seconds(answerTimeout));
        } catch (ConnectException e) {
            throw new MediaException("could not be fetched: the connection was refused");
        } catch (SSLException e) {
            throw new MediaException("could not be fetched: the TLS handshake failed");
        } catch (IOException e) {
            throw new MediaException("could not be fetched: the connection failed");
        } catch (IllegalArgumentException e) {
            throw new MediaException("is not a valid URL");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MediaException("could not be fetched: interrupted");
        }
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " seconds" : ms + " ms";
    }

    /**
     * The body as read by the caller: past the size limit, past the time limit, or on a broken
     * connection it throws {@link MediaException}. The JDK client has no read timeout once the
     * headers are in, so a watchdog closes the stream at the deadline; closing unblocks a waiting
     * read with end-of-stream, which this class turns into the timeout error.
     */
    private final class Guarded extends InputStream {
        private final InputStream in;
        private final ScheduledFuture<?> deadline;
        private volatile boolean expired;
        private long count;

        Guarded(InputStream in) {
            this.in = in;
            this.deadline = watchdog.schedule(this::expire, bodyTimeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        private void expire() {
            expired = true;
            closeQuietly(in);
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n == -1 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            int n;
            try {
                n = in.read(b, off, len);
            } catch (IOException e) {
                if (expired) throw timedOut();
                throw new MediaException("could not be fetched: the connection broke off");
            }
            if (expired) throw timedOut();
            if (n > 0) {
                count += n;
                if (count > maxBytes) throw MediaException.tooLarge(maxBytes);
            }
            return n;
        }

        private MediaException timedOut() {
            return new MediaException("could not be fetched: the download took longer than " + seconds(bodyTimeout));
        }

        @Override
        public void close() {
            deadline.cancel(false);
            closeQuietly(in);
        }
    }

    /** Closing a response body only releases the connection; a failure there changes nothing. */
    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // see above
        }
    }

    /**
     * The kind of an address a client must not make Kiln fetch from ("a private address"), or null
     * if it is a public unicast address.
     */
    static String forbiddenKind(InetAddress a) {
        if (a instanceof Inet6Address v6) {
            byte[] b = v6.getAddress();
            Inet4Address embedded = embeddedIpv4(b);
            if (embedded != null) return forbiddenKind(embedded);
            if (v6.isAnyLocalAddress()) return "an unspecified address";
            if (v6.isLoopbackAddress()) return "a loopback address";
            if (v6.isLinkLocalAddress()) return "a link-local address";
            if (v6.isSiteLocalAddress()) return "a private address";
            if ((b[0] & 0xFE) == 0xFC) return "a unique-local address";
            // 6to4 (RFC 3056): relays reach whatever IPv4 address is embedded, private ones included.
            if ((b[0] & 0xFF) == 0x20 && (b[1] & 0xFF) == 0x02) return "a 6to4 address";
            if (v6.isMulticastAddress()) return "a multicast address";
            return null;
        }
        byte[] b = a.getAddress();
        int o0 = b[0] & 0xFF;
        int o1 = b[1] & 0xFF;
        if (o0 == 0) return "an unspecified address";
        if (o0 == 127) return "a loopback address";
        if (o0 == 10 || (o0 == 172 && o1 >= 16 && o1 <= 31) || (o0 == 192 && o1 == 168)) return "a private address";
        if (o0 == 169 && o1 == 254) return "a link-local address";
        if (o0 == 100 && o1 >= 64 && o1 <= 127) return "a shared (CGNAT) address";
        if (o0 == 198 && (o1 == 18 || o1 == 19)) return "a benchmarking address";
        if (o0 == 192 && o1 == 0 && (b[2] & 0xFF) == 0) return "an IETF protocol address";
        if (o0 >= 224 && o0 <= 239) return "a multicast address";
        if (o0 == 255 && o1 == 255 && (b[2] & 0xFF) == 255 && (b[3] & 0xFF) == 255) return "a broadcast address";
        if (o0 >= 240) return "a reserved address";
        return null;
    }

    /**
     * The IPv4 address inside an IPv4-mapped ({@code ::ffff:a.b.c.d}), IPv4-compatible
     * ({@code ::a.b.c.d}) or NAT64 ({@code 64:ff9b::a.b.c.d}) IPv6 address, or null. Each of these
     * reaches the IPv4 host, so it must be judged as that host.
     */
    private static Inet4Address embeddedIpv4(byte[] b) {
        boolean zero10 = true;
        for (int i = 0; i < 10; i++) zero10 &= b[i] == 0;
        boolean mapped = zero10 && (b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF;
        boolean compatible = zero10 && b[10] == 0 && b[11] == 0
                && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && (b[15] == 0 || b[15] == 1)); // not :: or ::1
        boolean nat64 = b[0] == 0 && b[1] == 0x64 && (b[2] & 0xFF) == 0xFF && (b[3] & 0xFF) == 0x9B;
        for (int i = 4; nat64 && i < 12; i++) nat64 = b[i] == 0;
        if (!mapped && !compatible && !nat64) return null;
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are always an IPv4 address", e);
        }
    }
}

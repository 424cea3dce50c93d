package dev.kiln.user;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Who is calling: the one place every route, façade and page asks. In {@code KILN_AUTH=local}
 * (the default on a loopback address, refused at start-up on any other) every local request is
 * the implicit admin ({@link LocalRequests} says what is local). With {@code KILN_AUTH=on} the
 * request names its caller by, in this order:
 * <ol>
 *   <li>{@code x-admin-key: $KILN_ADMIN_KEY} — the admin (user {@value Users#KEY_ADMIN_ID});</li>
 *   <li>{@code Authorization: Bearer <secret>} or {@code X-API-Key: <secret>} — an API key or a
 *       session token (one namespace, {@link Credentials});</li>
 *   <li>a session cookie ({@link Sessions#cookieNames()}) — a session only, and then writes need
 *       the session's CSRF token.</li>
 * </ol>
 * A credential that is present but wrong is not skipped for the next one: the answer says what
 * was wrong with it.
 */
@Component
public class Identity {
    private final boolean local;
    private final byte[] adminKey;
    private final AuthProperties props;
    private final Credentials credentials;
    private final Users users;
    private final Sessions sessions;
    private volatile Caller keyAdmin;

    Identity(AuthProperties props, Environment env, Credentials credentials, Users users, Sessions sessions) {
        String bind = env.getProperty("server.address", "127.0.0.1");
        String mode = props.auth() == null ? (loopback(bind) ? "local" : "on") : props.auth();
        if (!mode.equals("local") && !mode.equals("on")) throw new IllegalStateException("KILN_AUTH must be local or on, got '" + mode + "'");
        if (mode.equals("local") && !loopback(bind)) {
            throw new IllegalStateException("KILN_AUTH=local gives every caller admin rights, so it is only allowed on a loopback "
                    + "address; KILN_BIND is " + bind + ". Set KILN_AUTH=on (and KILN_ADMIN_KEY) or bind to 127.0.0.1.");
        }
        this.local = mode.equals("local");
        this.adminKey = props.adminKey() == null ? null : props.adminKey().getBytes(StandardCharsets.UTF_8);
        this.props = props;
        this.credentials = credentials;
        this.users = users;
        this.sessions = sessions;
    }

    /** The outcome of asking who is calling. */
    public sealed interface Resolution {}

    /** A known caller; {@code csrfToken} is set when it came by session cookie. */
    public record Known(Caller caller, String csrfToken) implements Resolution {}

    /** Nobody: no credentials, or (with {@code problem}) credentials that are not valid. */
    public record Anonymous(String problem) implements Resolution {}

    /** A local-mode request that is not local (foreign Host or Origin): it gets nothing. */
    public record Foreign(String problem) implements Resolution {}

    /** Whether this server runs in local mode (one implicit admin). */
    public boolean local() {
        return local;
    }

    public Resolution resolve(HttpServletRequest req) {
        if (local) {
            String host = req.getHeader("Host");
            if (!LocalRequests.loopbackHost(host)) {
                return new Foreign("KILN_AUTH=local answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1]);"
                        + " this one was addressed to '" + host + "'. To serve other names, set KILN_AUTH=on.");
            }
            String origin = req.getHeader("Origin");
            if (!LocalRequests.allowedOrigin(origin, props.corsOrigins())) {
                return new Foreign("KILN_AUTH=local refuses requests from web pages of other sites (Origin '" + origin
                        + "'); allow an origin with KILN_CORS_ORIGINS.");
            }
            return new Known(Caller.LOCAL_ADMIN, null);
        }
        String key = req.getHeader("x-admin-key");
        if (key != null) {
            if (adminKey != null && MessageDigest.isEqual(adminKey, key.getBytes(StandardCharsets.UTF_8))) return new Known(keyAdmin(), null);
            return new Anonymous(adminKey == null ? "x-admin-key was sent but this server has no KILN_ADMIN_KEY" : "the x-admin-key is wrong");
        }
        String auth = req.getHeader("Authorization");
        if (auth != null) {
            if (!auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
                return new Anonymous("the Authorization header must be 'Bearer <API key or session token>'");
            }
            return token(auth.substring(7).trim());
        }
        String apiKey = req.getHeader("X-API-Key");
        if (apiKey != null) return token(apiKey.trim());
        Cookie[] cookies = req.getCookies();
        if (cookies != null) {
            for (Cookie c : cookies) {
                if (!sessions.cookieNames().contains(c.getName()) || c.getValue().isEmpty()) continue;
                Optional<Credentials.Found> f = credentials.find(c.getValue()).filter(x -> x.credential().kind().equals(Credentials.SESSION));
                if (f.isEmpty()) return new Anonymous("the session has ended (logged out, expired or revoked); log in again");
                return new Known(caller(f.get(), Caller.Via.SESSION_COOKIE), f.get().credential().csrfToken());
            }
        }
        return new Anonymous(null);
    }

    private Resolution token(String secret) {
        return credentials.find(secret)
                .<Resolution>map(f -> new Known(caller(f, f.credential().kind().equals(Credentials.SESSION)
                        ? Caller.Via.SESSION_TOKEN : Caller.Via.API_KEY), null))
                .orElseGet(() -> new Anonymous("the API key or session token is not valid (unknown, revoked or expired)"));
    }

    private static Caller caller(Credentials.Found f, Caller.Via via) {
        return new Caller(f.credential().userId(), f.role(), f.username(), via, f.credential().id());
    }

    private Caller keyAdmin() {
        Caller c = keyAdmin;
        if (c == null) {
            User u = users.keyAdmin();
            c = keyAdmin = new Caller(u.id(), u.role(), u.username(), Caller.Via.ADMIN_KEY, null);
        }
        return c;
    }

    static boolean loopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}

package dev.kiln.user;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseCookie;
import org.springframework.stereotype.Component;

/**
 * Session cookies: opened at login (a new session every time, and the one the request came with,
 * if any, revoked: rotation), closed at logout. The cookie is HttpOnly, SameSite=Lax, Path=/,
 * lives as long as the session (24 h), and is Secure when the request came over HTTPS or
 * {@code PUBLIC_BASE_URL} is https. Its name is {@link #DEFAULT_COOKIE}; a compatibility façade
 * may open sessions under its own name (say {@code gg_session}) after {@link #register registering}
 * it, and {@link Identity} then accepts that cookie everywhere too — one session store.
 */
@Component
public class Sessions {
    public static final String DEFAULT_COOKIE = "kiln_session";

    private final Credentials credentials;
    private final AuthProperties props;
    private final boolean publicHttps;
    private final Set<String> cookieNames = new CopyOnWriteArraySet<>(List.of(DEFAULT_COOKIE));

    Sessions(Credentials credentials, AuthProperties props, dev.kiln.config.KilnProperties kiln) {
        this.credentials = credentials;
        this.props = props;
        this.publicHttps = kiln.publicBaseUrl() != null && kiln.publicBaseUrl().startsWith("https:");
    }

    /** Lets a façade open sessions under another cookie name; Identity reads every registered name. */
    public void register(String cookieName) {
        if (!cookieName.matches("[A-Za-z0-9_-]{1,64}")) throw new IllegalArgumentException("not a cookie name: " + cookieName);
        cookieNames.add(cookieName);
    }

    public Set<String> cookieNames() {
        return cookieNames;
    }

    /** Opens a new session for the user under {@code cookieName}, revoking the session the request came with. */
    public Credentials.Issued open(String userId, Caller current, String cookieName, HttpServletRequest req, HttpServletResponse res) {
        if (!cookieNames.contains(cookieName)) throw new IllegalArgumentException("cookie " + cookieName + " is not registered");
        if (current != null && current.hasSession()) credentials.revoke(current.credentialId());
        Credentials.Issued s = credentials.openSession(userId);
        res.addHeader(HttpHeaders.SET_COOKIE, cookie(cookieName, s.secret(), props.sessionTtl(), req).toString());
        return s;
    }

    /** Ends the caller's session, if it came with one, and clears every session cookie the request sent. */
    public void close(Caller caller, HttpServletRequest req, HttpServletResponse res) {
        if (caller != null && caller.hasSession()) credentials.revoke(caller.credentialId());
        if (req.getCookies() == null) return;
        for (jakarta.servlet.http.Cookie c : req.getCookies()) {
            if (cookieNames.contains(c.getName())) res.addHeader(HttpHeaders.SET_COOKIE, cookie(c.getName(), "", Duration.ZERO, req).toString());
        }
    }

    private ResponseCookie cookie(String name, String value, Duration maxAge, HttpServletRequest req) {
        return ResponseCookie.from(name, value).httpOnly(true).secure(req.isSecure() || publicHttps).sameSite("Lax").path("/")
                .maxAge(maxAge).build();
    }
}

package dev.kiln.compat.mediagen;

import dev.kiln.api.RequestBodies;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.user.Caller;
import dev.kiln.user.Credentials;
import dev.kiln.user.Identity;
import dev.kiln.user.LoginThrottle;
import dev.kiln.user.Sessions;
import dev.kiln.user.User;
import dev.kiln.user.Users;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.ResponseEntity;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * MediaGen's cookie sessions on the core's sessions ({@link Sessions}, one store): the cookie is
 * {@value #COOKIE} (HttpOnly, SameSite=Lax, 24 h), registered so that {@link Identity} accepts it
 * on every route. {@code POST /auth/session} opens one for whoever the request proves to be (an
 * API key as {@code X-API-Key} or {@code Bearer}, or {@code {"username","password"}});
 * {@code POST /admin/session} for the admin, proven by {@code x-admin-key} once. A write sent
 * with only the cookie carries the session's CSRF token ({@code csrf_token} here) in
 * {@code X-CSRF-Token}, as every cookie write to Kiln does. With {@code KILN_AUTH=local} every
 * local request is the admin already, so these answer "authenticated" and set no cookie.
 */
@Tag(name = "Seed API: MediaGen")
@ConditionalOnCompat("003")
@RestController
class MediaGenSessions {
    static final String COOKIE = "gg_session";

    private final Sessions sessions;
    private final Identity identity;
    private final Users users;
    private final LoginThrottle throttle;

    MediaGenSessions(Sessions sessions, Identity identity, Users users, LoginThrottle throttle) {
        this.sessions = sessions;
        this.identity = identity;
        this.users = users;
        this.throttle = throttle;
        sessions.register(COOKIE);
    }

    @Operation(summary = "Open a generation session (cookie gg_session, 24 h)",
            description = "For the caller an API key (X-API-Key or Bearer) proves, or for {\"username\",\"password\"}. "
                    + "Returns csrf_token: cookie-only writes send it as X-CSRF-Token.",
            responses = {@ApiResponse(responseCode = "200", description = "{status:\"success\", authenticated:true, user, expires_at, csrf_token}"),
                    @ApiResponse(responseCode = "401", description = "No valid credentials: {status:\"error\", error, code}")})
    @PostMapping("/auth/session")
    Map<String, Object> openUser(Optional<Caller> caller, @RequestBody(required = false) byte[] body, HttpServletRequest req,
                                 HttpServletResponse res) {
        if (identity.local()) return local();
        String userId = null;
        if (body != null && body.length > 0) {
            JsonNode n = RequestBodies.parse(body);
            String username = n.path("username").isString() ? n.path("username").asString() : null;
            String password = n.path("password").isString() ? n.path("password").asString() : null;
            if (username != null && password != null) {
                throttle.check(username, req.getRemoteAddr());
                User u = users.authenticate(username, password).orElseThrow(() -> {
                    throttle.failed(username, req.getRemoteAddr());
                    return new MediaGenException(401, "unauthorized", "Wrong username or password", null);
                });
                userId = u.id();
            }
        }
        if (userId == null) {
            Caller c = caller.orElseThrow(() -> new MediaGenException(401, "unauthorized",
                    "Send an API key (X-API-Key or Authorization: Bearer) or {\"username\",\"password\"} to open a session", null));
            userId = c.id();
        }
        return open(userId, caller.orElse(null), req, res);
    }

    @Operation(summary = "Whether the generation session is valid",
            responses = {@ApiResponse(responseCode = "200", description = "{status:\"success\", authenticated:true, user, via}"),
                    @ApiResponse(responseCode = "401", description = "{status:\"error\", error, code:\"unauthorized\", authenticated:false}")})
    @GetMapping("/auth/session")
    ResponseEntity<Object> checkUser(Optional<Caller> caller, HttpServletRequest req) {
        return check(caller.orElse(null), false, req);
    }

    @Operation(summary = "Open an admin session with x-admin-key (cookie gg_session, 24 h)",
            responses = {@ApiResponse(responseCode = "200", description = "{status:\"success\", authenticated:true, role:\"admin\", …}"),
                    @ApiResponse(responseCode = "401", description = "x-admin-key missing or wrong: {status:\"error\", error, code}")})
    @PostMapping("/admin/session")
    Map<String, Object> openAdmin(Optional<Caller> caller, HttpServletRequest req, HttpServletResponse res) {
        if (identity.local()) return local();
        Caller c = caller.filter(x -> x.via() == Caller.Via.ADMIN_KEY).orElseThrow(() -> new MediaGenException(401, "unauthorized",
                req.getHeader("x-admin-key") == null ? "x-admin-key is required" : "x-admin-key is wrong", null));
        return open(c.id(), null, req, res);
    }

    @Operation(summary = "Whether the admin session is valid",
            responses = {@ApiResponse(responseCode = "200", description = "{status:\"success\", authenticated:true, role:\"admin\"}"),
                    @ApiResponse(responseCode = "401", description = "{status:\"error\", error, code:\"unauthorized\", authenticated:false}")})
    @GetMapping("/admin/session")
    ResponseEntity<Object> checkAdmin(Optional<Caller> caller, HttpServletRequest req) {
        return check(caller.orElse(null), true, req);
    }

    @Operation(summary = "End the admin session and clear its cookie",
            responses = {@ApiResponse(responseCode = "200", description = "{status:\"success\", authenticated:false}"),
                    @ApiResponse(responseCode = "403", description = "A cookie-only request without X-CSRF-Token")})
    @DeleteMapping("/admin/session")
    Map<String, Object> closeAdmin(Optional<Caller> caller, HttpServletRequest req, HttpServletResponse res) {
        sessions.close(caller.orElse(null), req, res);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "success");
        m.put("authenticated", false);
        return m;
    }

    private Map<String, Object> open(String userId, Caller current, HttpServletRequest req, HttpServletResponse res) {
        Credentials.Issued s = sessions.open(userId, current, COOKIE, req, res);
        User u = users.find(userId).orElse(null);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "success");
        m.put("authenticated", true);
        m.put("user", user(userId, u == null ? null : u.username(), u == null ? null : u.role()));
        m.put("role", u == null ? null : u.role());
        m.put("expires_at", s.credential().expiresAt().toString());
        m.put("csrf_token", s.credential().csrfToken());
        return m;
    }

    private ResponseEntity<Object> check(Caller c, boolean admin, HttpServletRequest req) {
        if (c == null || (admin && !c.isAdmin())) {
            Map<String, Object> m = MediaGenErrors.error(c == null ? "No valid session" : "This session is not an admin's", "unauthorized", null);
            m.put("authenticated", false);
            return ResponseEntity.status(401).body(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "success");
        m.put("authenticated", true);
        m.put("user", user(c.id(), c.username(), c.role()));
        m.put("role", c.role());
        m.put("via", c.via().name().toLowerCase(java.util.Locale.ROOT));
        if (c.via() == Caller.Via.SESSION_COOKIE && req.getAttribute(CsrfToken.class.getName()) instanceof CsrfToken t) {
            m.put("csrf_token", t.getToken());
        }
        return ResponseEntity.ok(m);
    }

    private static Map<String, Object> local() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "success");
        m.put("authenticated", true);
        m.put("user", user(Caller.LOCAL_ADMIN.id(), Caller.LOCAL_ADMIN.username(), Caller.LOCAL_ADMIN.role()));
        m.put("role", Caller.LOCAL_ADMIN.role());
        m.put("mode", "local");
        return m;
    }

    private static Map<String, Object> user(String id, String username, String role) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("username", username);
        m.put("role", role);
        return m;
    }
}

package dev.kiln.api;

import dev.kiln.credit.Ledger;
import dev.kiln.support.FieldError;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import dev.kiln.user.Credentials;
import dev.kiln.user.Identity;
import dev.kiln.user.LoginThrottle;
import dev.kiln.user.Sessions;
import dev.kiln.user.TelegramLogin;
import dev.kiln.user.User;
import dev.kiln.user.Users;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** Logging in and out (password, Telegram) and {@code GET /v1/me}. */
@Tag(name = "Auth", description = "Sessions, Telegram login and the caller's own account")
@RestController
class AuthController {
    static final String LOCAL_MODE = "KILN_AUTH=local has no logins: every local request is the implicit admin. "
            + "Run with KILN_AUTH=on to use accounts.";
    private final Identity identity;
    private final Users users;
    private final Sessions sessions;
    private final TelegramLogin telegram;
    private final LoginThrottle throttle;
    private final Ledger ledger;

    AuthController(Identity identity, Users users, Sessions sessions, TelegramLogin telegram, LoginThrottle throttle, Ledger ledger) {
        this.identity = identity;
        this.users = users;
        this.sessions = sessions;
        this.telegram = telegram;
        this.throttle = throttle;
        this.ledger = ledger;
    }

    record LoginRequest(@Schema(requiredMode = Schema.RequiredMode.REQUIRED) String username,
                        @Schema(requiredMode = Schema.RequiredMode.REQUIRED) String password) {}

    record TelegramRequest(@Schema(requiredMode = Schema.RequiredMode.REQUIRED, description = "Telegram.WebApp.initData, as received")
                           String initData) {}

    record UserView(String id, String username, String role, String telegramUsername, String displayName, BigDecimal credits,
                    Instant createdAt) {
        static UserView of(User u, BigDecimal credits) {
            return new UserView(u.id(), u.username(), u.role(), u.telegramUsername(), u.displayName(), credits, u.createdAt());
        }
    }

    /** A session just opened: the cookie is set too; the token is for clients that keep no cookies. */
    record SessionView(UserView user, String sessionToken, String csrfToken, Instant expiresAt) {}

    record EntryView(long id, String movement, String kind, BigDecimal amount, String jobId, String reason, Instant createdAt) {}

    record MeView(String id, String username, String role, BigDecimal credits, BigDecimal reserved, boolean metered, String via,
                  String csrfToken, List<EntryView> entries) {}

    @Operation(summary = "Log in with a username and password",
            description = "Sets the session cookie (HttpOnly, SameSite=Lax, 24 h) and returns the session token and its CSRF token. "
                    + "A wrong username and a wrong password answer alike; repeated failures answer 429.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(schema = @Schema(implementation = LoginRequest.class)))
    @PostMapping(path = "/v1/auth/login", consumes = MediaType.APPLICATION_JSON_VALUE)
    SessionView login(Optional<Caller> current, @RequestBody byte[] body, HttpServletRequest req, HttpServletResponse res) {
        requireAccounts();
        JsonNode n = RequestBodies.parse(body);
        String username = text(n, "username");
        String password = text(n, "password");
        throttle.check(username, req.getRemoteAddr());
        User u = users.authenticate(username, password).orElseThrow(() -> {
            throttle.failed(username, req.getRemoteAddr());
            return new KilnException(dev.kiln.support.ErrorCode.UNAUTHORIZED, "wrong username or password");
        });
        return open(u, current.orElse(null), req, res);
    }

    @Operation(summary = "Log in with Telegram Web App initData",
            description = "The initData is checked as Telegram documents it (HMAC-SHA256 under the bot token), must be fresh, and is accepted once. "
                    + "A new Telegram user gets an account with KILN_START_CREDITS. Sets the session cookie and returns the session token.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(schema = @Schema(implementation = TelegramRequest.class)))
    @PostMapping(path = "/v1/auth/telegram", consumes = MediaType.APPLICATION_JSON_VALUE)
    SessionView telegram(Optional<Caller> current, @RequestBody byte[] body, HttpServletRequest req, HttpServletResponse res) {
        requireAccounts();
        JsonNode n = RequestBodies.parse(body);
        String initData = n.isObject() && n.path("initData").isString() ? n.path("initData").asString() : null;
        if (initData == null) throw KilnException.validation("initData", "is required: the Telegram.WebApp.initData string");
        throttle.check(null, req.getRemoteAddr());
        TelegramLogin.Identity id;
        try {
            id = telegram.verify(initData);
        } catch (KilnException e) {
            if (e.code() == dev.kiln.support.ErrorCode.UNAUTHORIZED) throttle.failed(null, req.getRemoteAddr());
            throw e;
        }
        return open(users.telegram(id), current.orElse(null), req, res);
    }

    @Operation(summary = "Log out", description = "Ends the session the request came with (cookie or token) and clears the cookie.")
    @PostMapping("/v1/auth/logout")
    ResponseEntity<Void> logout(Optional<Caller> caller, HttpServletRequest req, HttpServletResponse res) {
        sessions.close(caller.orElse(null), req, res);
        return ResponseEntity.noContent().build();
    }

    @Operation(summary = "Who am I", description = "The caller, their credits (available and held by unfinished jobs) and their latest ledger entries.")
    @GetMapping("/v1/me")
    MeView me(Caller caller, HttpServletRequest req) {
        Object csrf = caller.via() == Caller.Via.SESSION_COOKIE ? req.getAttribute(SecurityConfig.CSRF_ATTRIBUTE) : null;
        if (!caller.metered()) {
            return new MeView(caller.id(), caller.username(), caller.role(), null, null, false, wire(caller.via()), null, List.of());
        }
        List<EntryView> entries = ledger.statement(caller.id(), 20).stream()
                .map(e -> new EntryView(e.id(), e.movement(), e.kind(), e.amount(), e.jobId(), e.reason(), e.createdAt())).toList();
        return new MeView(caller.id(), caller.username(), caller.role(), ledger.balance(caller.id()).stripTrailingZeros(),
                ledger.reserved(caller.id()).stripTrailingZeros(), true, wire(caller.via()), csrf == null ? null : csrf.toString(), entries);
    }

    private SessionView open(User u, Caller current, HttpServletRequest req, HttpServletResponse res) {
        Credentials.Issued s = sessions.open(u.id(), current, Sessions.DEFAULT_COOKIE, req, res);
        return new SessionView(UserView.of(u, ledger.balance(u.id()).stripTrailingZeros()), s.secret(), s.credential().csrfToken(),
                s.credential().expiresAt());
    }

    private void requireAccounts() {
        if (identity.local()) throw KilnException.conflict(LOCAL_MODE);
    }

    static String wire(Caller.Via via) {
        return via.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String text(JsonNode n, String field) {
        if (!n.isObject()) throw KilnException.validation("body", "must be a JSON object with username and password");
        JsonNode v = n.path(field);
        if (!v.isString() || v.asString().isEmpty()) {
            List<FieldError> errors = new ArrayList<>();
            errors.add(new FieldError(field, "is required (a string)"));
            throw KilnException.validation(errors);
        }
        return v.asString();
    }
}

package dev.kiln.api;

import dev.kiln.credit.Ledger;
import dev.kiln.support.FieldError;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import dev.kiln.user.Credentials;
import dev.kiln.user.Identity;
import dev.kiln.user.Sessions;
import dev.kiln.user.User;
import dev.kiln.user.Users;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.math.BigDecimal;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** Admin: users, their credits and sessions, an admin session from the admin key, the ledger's books. */
@Tag(name = "Admin: users", description = "Users, credits and sessions")
@RestController
class AdminUserController {
    private final Users users;
    private final Ledger ledger;
    private final Credentials credentials;
    private final Sessions sessions;
    private final Identity identity;

    AdminUserController(Users users, Ledger ledger, Credentials credentials, Sessions sessions, Identity identity) {
        this.users = users;
        this.ledger = ledger;
        this.credentials = credentials;
        this.sessions = sessions;
        this.identity = identity;
    }

    record NewUserRequest(@Schema(requiredMode = Schema.RequiredMode.REQUIRED) String username,
                          @Schema(requiredMode = Schema.RequiredMode.REQUIRED, description = "8 characters to 72 bytes") String password,
                          @Schema(allowableValues = {"user", "admin"}) String role,
                          @Schema(description = "starting credits; KILN_START_CREDITS when absent") BigDecimal credits) {}

    record GrantRequest(@Schema(requiredMode = Schema.RequiredMode.REQUIRED, description = "credits to add (negative: take back)") BigDecimal amount,
                        @Schema(requiredMode = Schema.RequiredMode.REQUIRED) String reason) {}

    record GrantView(String userId, BigDecimal amount, BigDecimal credits) {}

    @Operation(summary = "Create a user", description = "With a password, a role (user or admin) and starting credits (KILN_START_CREDITS by default).")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(schema = @Schema(implementation = NewUserRequest.class)))
    @PostMapping(path = "/v1/admin/users", consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<AuthController.UserView> create(Caller caller, @RequestBody byte[] body) {
        requireAdmin(caller);
        JsonNode n = object(RequestBodies.parse(body));
        List<FieldError> errors = new ArrayList<>();
        String username = optionalText(n, "username", errors);
        String password = optionalText(n, "password", errors);
        String role = optionalText(n, "role", errors);
        BigDecimal credits = null;
        if (n.has("credits") && !n.get("credits").isNull()) {
            if (n.get("credits").isNumber()) credits = n.get("credits").decimalValue();
            else errors.add(new FieldError("credits", "must be a number"));
        }
        if (!errors.isEmpty()) throw KilnException.validation(errors);
        User u = users.create(username, password, role, credits);
        return ResponseEntity.created(URI.create("/v1/admin/users/" + u.id()))
                .body(AuthController.UserView.of(u, ledger.balance(u.id()).stripTrailingZeros()));
    }

    @Operation(summary = "List users", description = "Newest first, with their credits; pass next_cursor as cursor for the next page.")
    @GetMapping("/v1/admin/users")
    Page<AuthController.UserView> list(Caller caller, @RequestParam(required = false) String cursor, @RequestParam(required = false) Integer limit) {
        requireAdmin(caller);
        int n = Cursor.limit(limit);
        List<User> page = users.list(Cursor.decode(cursor), n + 1);
        boolean more = page.size() > n;
        List<User> items = more ? page.subList(0, n) : page;
        Map<String, BigDecimal> balances = ledger.balances(items.stream().map(User::id).toList());
        return new Page<>(items.stream().map(u -> AuthController.UserView.of(u, balances.getOrDefault(u.id(), BigDecimal.ZERO).stripTrailingZeros()))
                .toList(), more ? Cursor.encode(items.getLast().id()) : null);
    }

    @Operation(summary = "Grant credits to a user", description = "Recorded in the ledger (granted → user) with the reason. A negative amount takes credits back, never below zero.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(schema = @Schema(implementation = GrantRequest.class)))
    @PostMapping(path = "/v1/admin/users/{id}/credits", consumes = MediaType.APPLICATION_JSON_VALUE)
    GrantView grant(Caller caller, @PathVariable String id, @RequestBody byte[] body) {
        requireAdmin(caller);
        JsonNode n = object(RequestBodies.parse(body));
        List<FieldError> errors = new ArrayList<>();
        BigDecimal amount = null;
        JsonNode a = n.path("amount");
        if (!a.isNumber()) errors.add(new FieldError("amount", "is required: a number of credits"));
        else {
            amount = a.decimalValue();
            if (amount.signum() == 0 || amount.scale() > 4 || amount.abs().compareTo(BigDecimal.valueOf(1_000_000_000)) > 0) {
                errors.add(new FieldError("amount", "must be non-zero, at most 1000000000 in size, with at most 4 decimals"));
            }
        }
        String reason = optionalText(n, "reason", errors);
        if (reason == null || reason.isBlank()) errors.add(new FieldError("reason", "is required: why the credits are granted"));
        else if (reason.length() > 500) errors.add(new FieldError("reason", "must be at most 500 characters"));
        if (!errors.isEmpty()) throw KilnException.validation(errors);
        users.find(id).orElseThrow(() -> KilnException.notFound("user", id));
        BigDecimal balance = ledger.grant(id, amount, reason.strip() + " (by " + caller.id() + ")");
        return new GrantView(id, amount, balance.stripTrailingZeros());
    }

    @Operation(summary = "End every session of a user", description = "Their API keys stay valid (revoke those with DELETE /v1/api-keys/{id}).")
    @DeleteMapping("/v1/admin/users/{id}/sessions")
    Map<String, Integer> revokeSessions(Caller caller, @PathVariable String id) {
        requireAdmin(caller);
        users.find(id).orElseThrow(() -> KilnException.notFound("user", id));
        return Map.of("revoked", credentials.revokeSessions(id));
    }

    @Operation(summary = "Open an admin session", description = "For a browser: send x-admin-key (or any admin credential) once; the answer sets the session cookie.")
    @PostMapping("/v1/admin/session")
    AuthController.SessionView session(Caller caller, HttpServletRequest req, HttpServletResponse res) {
        requireAdmin(caller);
        if (identity.local()) throw KilnException.conflict(AuthController.LOCAL_MODE);
        User u = users.find(caller.id()).orElseThrow(() -> KilnException.notFound("user", caller.id()));
        Credentials.Issued s = sessions.open(u.id(), caller, Sessions.DEFAULT_COOKIE, req, res);
        return new AuthController.SessionView(AuthController.UserView.of(u, ledger.balance(u.id()).stripTrailingZeros()), s.secret(),
                s.credential().csrfToken(), s.credential().expiresAt());
    }

    @Operation(summary = "Check the credit ledger", description = "Sums of the system accounts, and counts of anything out of balance (all must be 0).")
    @GetMapping("/v1/admin/ledger")
    Ledger.Audit ledger(Caller caller) {
        requireAdmin(caller);
        return ledger.audit();
    }

    /** The security chain already demands an admin on /v1/admin; this keeps the rule next to the code too. */
    private static void requireAdmin(Caller caller) {
        if (!caller.isAdmin()) throw new KilnException(dev.kiln.support.ErrorCode.FORBIDDEN, "only an admin may do this");
    }

    private static JsonNode object(JsonNode n) {
        if (!n.isObject()) throw KilnException.validation("body", "must be a JSON object");
        return n;
    }

    private static String optionalText(JsonNode n, String field, List<FieldError> errors) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isString()) {
            errors.add(new FieldError(field, "must be a string"));
            return null;
        }
        return v.asString();
    }
}

package dev.kiln.api;

import dev.kiln.account.Account;
import dev.kiln.account.AccountAdmin;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.support.SecretBox;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

@Tag(name = "Admin: provider accounts", description = "Pools of provider accounts and their health")
@RestController
@RequestMapping("/v1/admin/accounts")
class AdminAccountController {
    private final AccountAdmin admin;

    AdminAccountController(AccountAdmin admin) {
        this.admin = admin;
    }

    /**
     * An account as the admin API shows it: never a secret. The credential is only
     * {@code has_secret}; settings whose name says they are secret show {@code "(set)"}; a base URL
     * shows no user-info and no secret-named query value.
     */
    record AccountView(String id, String provider, String label, String source, String baseUrl, boolean sandbox, String state,
                       boolean active, int maxConcurrency, int ratePerMinute, int inFlight, long requests, long errors,
                       Double errorRatePercent, int recentFailures, Instant cooldownUntil, Instant lastUsedAt, Instant lastCheckAt,
                       String lastError, boolean hasSecret, Map<String, String> config, Instant createdAt, Instant capabilitiesAt) {
        static AccountView of(Account a) {
            Map<String, String> cfg = new java.util.LinkedHashMap<>();
            a.config().forEach((k, v) -> cfg.put(k, SecretBox.isSecretName(k) ? MASK : v));
            return new AccountView(a.id(), a.provider(), a.label(), a.source(), maskUrl(a.baseUrl()), a.sandbox(), a.state().wire(),
                    AdminAccountController.active(a), a.maxConcurrency(), a.ratePerMinute(), a.inFlight(), a.requests(), a.errors(),
                    errorRate(a.errors(), a.requests()), a.recentFailures(), a.cooldownUntil(), a.lastUsedAt(), a.lastCheckAt(),
                    a.lastError(), a.secret() != null, cfg, a.createdAt(), a.capabilitiesAt());
        }
    }

    /**
     * The pool's counters summed: accounts, active ones (in rotation: {@code ready}), requests sent
     * and errors, and the error rate in percent (null before any request).
     */
    record Totals(int accounts, int active, long requests, long errors, Double errorRatePercent) {
        static Totals of(List<Account> list) {
            long requests = list.stream().mapToLong(Account::requests).sum();
            long errors = list.stream().mapToLong(Account::errors).sum();
            return new Totals(list.size(), (int) list.stream().filter(AdminAccountController::active).count(), requests, errors,
                    errorRate(errors, requests));
        }
    }

    /** In rotation: only a {@code ready} account is given jobs. */
    static boolean active(Account a) {
        return a.state() == dev.kiln.account.AccountState.READY;
    }

    /** errors / requests × 100, rounded to two decimals; null before any request. */
    static Double errorRate(long errors, long requests) {
        if (requests <= 0) return null;
        return java.math.BigDecimal.valueOf(errors * 100.0 / requests).setScale(2, java.math.RoundingMode.HALF_UP).doubleValue();
    }

    static final String MASK = "(set)";

    /** A URL without its user-info, and with the values of secret-named query parameters masked. */
    static String maskUrl(String url) {
        if (url == null) return null;
        try {
            java.net.URI u = java.net.URI.create(url);
            String query = u.getRawQuery();
            if (query != null) {
                StringBuilder q = new StringBuilder();
                for (String pair : query.split("&", -1)) {
                    if (!q.isEmpty()) q.append('&');
                    int eq = pair.indexOf('=');
                    q.append(eq > 0 && SecretBox.isSecretName(pair.substring(0, eq)) ? pair.substring(0, eq + 1) + MASK : pair);
                }
                query = q.toString();
            }
            String authority = u.getRawAuthority();
            if (authority != null && authority.contains("@")) authority = MASK + "@" + authority.substring(authority.lastIndexOf('@') + 1);
            return (u.getScheme() == null ? "" : u.getScheme() + ":") + (authority == null ? "" : "//" + authority)
                    + (u.getRawPath() == null ? "" : u.getRawPath()) + (query == null ? "" : "?" + query)
                    + (u.getRawFragment() == null ? "" : "#" + u.getRawFragment());
        } catch (IllegalArgumentException e) {
            return MASK;
        }
    }

    private static void requireAdmin(Caller caller) {
        if (!caller.isAdmin()) throw new KilnException(ErrorCode.FORBIDDEN, "only an admin may manage provider accounts");
    }

    @Operation(summary = "List provider accounts with their health and counters",
            description = "Each account's state, whether it is active (ready, so in rotation), requests, errors and error rate; "
                    + "totals sums them. provider= keeps one provider's pool (e.g. replicate: seed .base's token statistics).")
    @GetMapping
    Map<String, Object> list(Caller caller, @org.springframework.web.bind.annotation.RequestParam(required = false) String provider) {
        requireAdmin(caller);
        List<Account> list = admin.list().stream().filter(a -> provider == null || a.provider().equals(provider)).toList();
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("items", list.stream().map(AccountView::of).toList());
        out.put("totals", Totals.of(list));
        return out;
    }

    @Operation(summary = "Add a provider account", description = "Body: provider, label, base_url, secret, config, max_concurrency, rate_per_minute. The secret is stored encrypted; the account is health-checked at once.")
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<AccountView> add(Caller caller, @RequestBody byte[] body) {
        requireAdmin(caller);
        return ResponseEntity.status(201).body(AccountView.of(admin.add(RequestBodies.parse(body))));
    }

    @Operation(summary = "Get one account")
    @GetMapping("/{id}")
    AccountView get(Caller caller, @PathVariable String id) {
        requireAdmin(caller);
        return AccountView.of(admin.get(id));
    }

    @Operation(summary = "What its last health check found it can run",
            description = "For ComfyUI: its node classes, the model files in each folder, and which inputs name them, as read from /object_info; "
                    + "jobs go only to accounts that have what their workflow needs. Null when no check could tell.")
    @GetMapping("/{id}/capabilities")
    Map<String, Object> capabilities(Caller caller, @PathVariable String id) {
        requireAdmin(caller);
        Account a = admin.get(id);
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("checked_at", a.capabilitiesAt());
        out.put("capabilities", admin.capabilities(id));
        return out;
    }

    @Operation(summary = "Run its health check now")
    @PostMapping("/{id}/check")
    AccountView check(Caller caller, @PathVariable String id) {
        requireAdmin(caller);
        return AccountView.of(admin.check(id));
    }

    @Operation(summary = "Enable a disabled account (through a health check)")
    @PostMapping("/{id}/enable")
    AccountView enable(Caller caller, @PathVariable String id) {
        requireAdmin(caller);
        return AccountView.of(admin.enable(id));
    }

    @Operation(summary = "Disable an account: no new jobs go to it")
    @PostMapping("/{id}/disable")
    AccountView disable(Caller caller, @PathVariable String id) {
        requireAdmin(caller);
        return AccountView.of(admin.disable(id));
    }
}

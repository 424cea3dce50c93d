package dev.kiln.api;

import dev.kiln.account.Account;
import dev.kiln.account.AccountState;
import dev.kiln.account.AccountStore;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

@Tag(name = "Health")
@RestController
class HealthController {
    private final JdbcClient jdbc;
    private final AccountStore accounts;
    private final Clock clock;

    HealthController(JdbcClient jdbc, AccountStore accounts, Clock clock) {
        this.jdbc = jdbc;
        this.accounts = accounts;
        this.clock = clock;
    }

    @Operation(summary = "Liveness")
    @GetMapping("/health")
    Map<String, Object> health() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "ok");
        m.put("timestamp", clock.instant().toString());
        m.put("uptime", ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0);
        return m;
    }

    @Operation(summary = "Readiness: the database and each provider pool",
            description = "503 when the database is unreachable; a provider without a ready account makes the status degraded.")
    @GetMapping("/health/ready")
    ResponseEntity<Map<String, Object>> ready() {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean db;
        String dbError = null;
        try {
            db = jdbc.sql("SELECT 1").query(Integer.class).single() == 1;
        } catch (RuntimeException e) {
            db = false;
            dbError = "unreachable";
        }
        Map<String, Object> providers = new TreeMap<>();
        boolean degraded = false;
        if (db) {
            Map<String, List<Account>> byProvider = new TreeMap<>();
            for (Account a : accounts.list()) byProvider.computeIfAbsent(a.provider(), k -> new java.util.ArrayList<>()).add(a);
            for (var e : byProvider.entrySet()) {
                long ready = e.getValue().stream().filter(a -> a.state() == AccountState.READY).count();
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("status", ready > 0 ? "ok" : "down");
                p.put("ready", ready);
                p.put("accounts", e.getValue().stream().map(a -> Map.of("id", a.id(), "label", a.label(), "state", a.state().wire(),
                        "sandbox", a.sandbox(), "in_flight", a.inFlight())).toList());
                providers.put(e.getKey(), p);
                degraded |= ready == 0;
            }
        }
        m.put("status", !db ? "down" : degraded ? "degraded" : "ok");
        m.put("timestamp", clock.instant().toString());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("status", db ? "ok" : "down");
        if (dbError != null) d.put("error", dbError);
        m.put("database", d);
        m.put("providers", providers);
        return ResponseEntity.status(db ? 200 : 503).body(m);
    }
}

package dev.kiln.account;

import dev.kiln.support.SecretBox;
import static dev.kiln.db.Db.instant;
import static dev.kiln.db.Db.ts;

import dev.kiln.support.Ids;
import dev.kiln.support.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import tools.jackson.databind.JsonNode;

/**
 * The {@code accounts} table: definitions, health state, counters and the in-flight count that
 * caps each account's concurrency. The in-flight count changes in the same transactions as the
 * jobs that take and free slots, so it never drifts, and every instance sees it.
 */
@Repository
public class AccountStore {
    private final JdbcClient jdbc;
    private final SecretBox secrets;
    /** Secrets of environment and sandbox accounts: known to this process, never written to the database. */
    private final Map<String, String> runtimeSecrets = new ConcurrentHashMap<>();

    AccountStore(JdbcClient jdbc, SecretBox secrets) {
        this.jdbc = jdbc;
        this.secrets = secrets;
    }

    /** What defines an account; counters and state live in the row. */
    public record Definition(String provider, String label, String source, String baseUrl, String secret,
                             Map<String, String> config, boolean sandbox, int maxConcurrency, int ratePerMinute) {}

    /**
     * Creates or refreshes an account defined by this process (environment or sandbox): its
     * secret stays in memory; the row keeps its state and counters across restarts.
     */
    public Account upsertRuntime(Definition d, Instant now) {
        Optional<Account> existing = findByLabel(d.provider(), d.label());
        String id;
        if (existing.isPresent()) {
            id = existing.get().id();
            if (!java.util.Objects.equals(existing.get().baseUrl(), d.baseUrl())) {
                // Another server: what the old one had says nothing of it until its next check.
                jdbc.sql("DELETE FROM account_capabilities WHERE account_id = ?").param(id).update();
                jdbc.sql("UPDATE accounts SET capabilities_at = NULL WHERE id = ?").param(id).update();
            }
            jdbc.sql("""
                    UPDATE accounts SET source = ?, base_url = ?, config = ?, sandbox = ?, max_concurrency = ?, rate_per_minute = ?
                    WHERE id = ?""")
                    .params(d.source(), d.baseUrl(), sealedConfig(d.config()), d.sandbox(), d.maxConcurrency(), d.ratePerMinute(), id)
                    .update();
        } else {
            id = insert(d, null, now);
        }
        if (d.secret() != null) runtimeSecrets.put(id, d.secret());
        return find(id).orElseThrow();
    }

    /** Adds an account through the admin API; its secret is stored encrypted. */
    public Account insertStored(Definition d, Instant now) {
        return find(insert(d, secrets.seal(d.secret()), now)).orElseThrow();
    }

    private String insert(Definition d, String sealedSecret, Instant now) {
        String id = Ids.newId("acct");
        jdbc.sql("""
                INSERT INTO accounts (id, provider, label, source, base_url, secret, config, sandbox, state, max_concurrency,
                  rate_per_minute, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)""")
                .params(id, d.provider(), d.label(), d.source(), d.baseUrl(), sealedSecret, sealedConfig(d.config()), d.sandbox(),
                        d.maxConcurrency(), d.ratePerMinute(), ts(now))
                .update();
        return id;
    }

    public Optional<Account> find(String id) {
        return jdbc.sql("SELECT * FROM accounts WHERE id = ?").param(id).query(this::map).optional();
    }

    public Optional<Account> findByLabel(String provider, String label) {
        return jdbc.sql("SELECT * FROM accounts WHERE provider = ? AND label = ?").params(provider, label).query(this::map).optional();
    }

    public List<Account> list() {
        return jdbc.sql("SELECT * FROM accounts ORDER BY provider, created_at").query(this::map).list();
    }

    /** Takes a concurrency slot if the account is ready and has room; part of the caller's transaction. */
    public boolean tryAcquireSlot(String id, Instant now) {
        return jdbc.sql("""
                UPDATE accounts SET in_flight = in_flight + 1, requests = requests + 1, last_used_at = ?
                WHERE id = ? AND in_flight < max_concurrency AND state = 'ready'""")
                .params(ts(now), id).update() == 1;
    }

    public void releaseSlot(String id) {
        jdbc.sql("UPDATE accounts SET in_flight = in_flight - 1 WHERE id = ? AND in_flight > 0").param(id).update();
    }

    /** Recomputes every in-flight count from the jobs (a safety net at start-up). */
    public void recountInFlight() {
        jdbc.sql("""
                UPDATE accounts SET in_flight = (SELECT COUNT(*) FROM jobs j WHERE j.account_id = accounts.id
                  AND j.status = 'running' AND j.phase IN ('submit', 'track'))""").update();
    }

    /** Moves the state if the table allows it from the state read; false if it changed meanwhile. */
    public boolean transition(Account a, AccountState to, String lastError, Instant now) {
        if (!a.state().canBecome(to)) {
            throw new IllegalStateException("account " + a.id() + " cannot go from " + a.state().wire() + " to " + to.wire());
        }
        boolean checked = to == AccountState.READY || to == AccountState.FAILED;
        return jdbc.sql("""
                UPDATE accounts SET state = ?, version = version + 1, last_error = ?,
                  last_check_at = CASE WHEN ? THEN ? ELSE last_check_at END,
                  recent_failures = CASE WHEN ? THEN 0 ELSE recent_failures END
                WHERE id = ? AND version = ?""")
                .params(to.wire(), lastError, checked, ts(now), to == AccountState.READY, a.id(), a.version()).update() == 1;
    }

    /** A 429: no new work for this account until {@code until}. */
    public void coolDown(String id, Instant until) {
        jdbc.sql("UPDATE accounts SET cooldown_until = ? WHERE id = ? AND (cooldown_until IS NULL OR cooldown_until < ?)")
                .params(ts(until), id, ts(until)).update();
    }

    /**
     * Counts a failure in the sliding window; returns the failures counted in the current window.
     */
    public int recordFailure(String id, String error, Instant now, Duration window) {
        Account a = find(id).orElseThrow();
        boolean fresh = a.failureWindowStart() == null || a.failureWindowStart().plus(window).isBefore(now);
        jdbc.sql("""
                UPDATE accounts SET errors = errors + 1, last_error = ?,
                  recent_failures = CASE WHEN ? THEN 1 ELSE recent_failures + 1 END,
                  failure_window_start = CASE WHEN ? THEN ? ELSE failure_window_start END
                WHERE id = ?""")
                .params(error, fresh, fresh, ts(now), id).update();
        return fresh ? 1 : a.recentFailures() + 1;
    }

    public void recordSuccess(String id) {
        jdbc.sql("UPDATE accounts SET recent_failures = 0, failure_window_start = NULL WHERE id = ? AND recent_failures > 0")
                .param(id).update();
    }

    /** Stores what a health check found the account can run; the row's {@code capabilities_at} says it changed. */
    public void saveCapabilities(String id, JsonNode capabilities, Instant at) {
        String body = Json.write(capabilities);
        if (jdbc.sql("UPDATE account_capabilities SET checked_at = ?, body = ? WHERE account_id = ?").params(ts(at), body, id).update() == 0) {
            try {
                jdbc.sql("INSERT INTO account_capabilities (account_id, checked_at, body) VALUES (?, ?, ?)").params(id, ts(at), body).update();
            } catch (org.springframework.dao.DuplicateKeyException e) {
                // Another instance stored it first: this answer is as fresh.
                jdbc.sql("UPDATE account_capabilities SET checked_at = ?, body = ? WHERE account_id = ?").params(ts(at), body, id).update();
            }
        }
        jdbc.sql("UPDATE accounts SET capabilities_at = ? WHERE id = ?").params(ts(at), id).update();
    }

    /** What the last health check that could tell found the account can run, or null. */
    public JsonNode capabilities(String id) {
        return jdbc.sql("SELECT body FROM account_capabilities WHERE account_id = ?").param(id).query(String.class).optional()
                .map(Json::parse).orElse(null);
    }

    public void delete(String id) {
        jdbc.sql("DELETE FROM accounts WHERE id = ?").param(id).update();
        runtimeSecrets.remove(id);
    }

    /**
     * An account's settings as stored: those whose name says they are secret (a webhook signing
     * secret, say) are sealed like the account's own secret, so no SQL parameter, backup or log of
     * the table holds them in clear.
     */
    String sealedConfig(Map<String, String> config) {
        Map<String, String> stored = new LinkedHashMap<>();
        config.forEach((k, v) -> stored.put(k, v != null && SecretBox.isSecretName(k) ? secrets.seal(v) : v));
        return Json.write(stored);
    }

    private String openSetting(String name, String stored) {
        return SecretBox.isSecretName(name) && SecretBox.isSealed(stored) ? secrets.open(stored) : stored;
    }

    private Account map(ResultSet rs, int row) throws SQLException {
        String id = rs.getString("id");
        String stored = rs.getString("secret");
        String secret = stored != null ? secrets.open(stored) : runtimeSecrets.get(id);
        Map<String, String> config = new LinkedHashMap<>();
        JsonNode c = Json.parse(rs.getString("config"));
        if (c != null && c.isObject()) c.properties().forEach(e -> config.put(e.getKey(), openSetting(e.getKey(), e.getValue().asString())));
        return new Account(id, rs.getString("provider"), rs.getString("label"), rs.getString("source"),
                rs.getString("base_url"), secret, config, rs.getBoolean("sandbox"), AccountState.of(rs.getString("state")),
                rs.getInt("max_concurrency"), rs.getInt("rate_per_minute"), rs.getInt("in_flight"), rs.getLong("requests"),
                rs.getLong("errors"), rs.getInt("recent_failures"), instant(rs, "failure_window_start"),
                instant(rs, "cooldown_until"), instant(rs, "last_used_at"), instant(rs, "last_check_at"),
                rs.getString("last_error"), rs.getInt("version"), instant(rs, "created_at"), instant(rs, "capabilities_at"));
    }
}

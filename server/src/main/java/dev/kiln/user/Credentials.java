package dev.kiln.user;

import static dev.kiln.db.Db.instant;
import static dev.kiln.db.Db.ts;

import dev.kiln.support.Ids;
import dev.kiln.support.KilnException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

/**
 * Sessions and API keys: one namespace of bearer secrets in one table. A secret is 256 random
 * bits; only its SHA-256 is stored (a fast hash is right for a secret this long: there is nothing
 * to guess, and every request looks one up). Either kind is accepted wherever a caller is asked
 * for: as {@code Authorization: Bearer}, as {@code X-API-Key}, or (a session) as the cookie.
 */
@Service
public class Credentials {
    public static final String SESSION = "session";
    public static final String API_KEY = "api_key";
    /** How often {@code last_used_at} is written per credential (a write per request would cost more than the lookup). */
    private static final Duration TOUCH_EVERY = Duration.ofMinutes(1);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final JdbcClient jdbc;
    private final AuthProperties props;
    private final Clock clock;
    private final Map<String, Instant> touched = new ConcurrentHashMap<>();

    Credentials(JdbcClient jdbc, AuthProperties props, Clock clock) {
        this.jdbc = jdbc;
        this.props = props;
        this.clock = clock;
    }

    /** A credential as stored (never its secret). */
    public record Credential(String id, String kind, String userId, String name, String hint, String csrfToken, Instant createdAt,
                             Instant expiresAt, Instant revokedAt, Instant lastUsedAt) {}

    /** A credential just made, with its secret (shown once). */
    public record Issued(Credential credential, String secret) {}

    /** The valid credential a secret names, with its user's role and name. */
    record Found(Credential credential, String role, String username) {}

    /** Opens a session of {@code KILN_SESSION_TTL} (24 h) for a user. */
    public Issued openSession(String userId) {
        return issue(SESSION, userId, null, clock.instant().plus(props.sessionTtl()), Ids.secretToken());
    }

    /** Creates an API key; its secret is returned only now. */
    public Issued createApiKey(String userId, String name) {
        String n = name == null ? "" : name.strip();
        if (n.isEmpty() || n.length() > 100) throw KilnException.validation("name", "is required: 1 to 100 characters naming the key");
        return issue(API_KEY, userId, n, null, null);
    }

    private Issued issue(String kind, String userId, String name, Instant expiresAt, String csrf) {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        // The prefix tells what a leaked string is (secret scanners, logs); it is part of the secret.
        String secret = (kind.equals(SESSION) ? "kiln_s_" : "kiln_k_") + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        String hint = secret.substring(0, 11) + "…";
        Credential c = new Credential(Ids.newId(kind.equals(SESSION) ? "ses" : "key"), kind, userId, name, hint, csrf,
                clock.instant(), expiresAt, null, null);
        jdbc.sql("""
                INSERT INTO credentials (id, kind, user_id, token_hash, name, hint, csrf_token, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""")
                .params(c.id(), kind, userId, hash(secret), name, hint, csrf, ts(c.createdAt()), ts(expiresAt)).update();
        return new Issued(c, secret);
    }

    /** The credential a presented secret names, if it exists, is not revoked and has not expired. */
    Optional<Found> find(String secret) {
        if (secret == null || secret.length() < 20 || secret.length() > 200) return Optional.empty();
        Instant now = clock.instant();
        Optional<Found> f = jdbc.sql("""
                SELECT c.*, u.role, u.username FROM credentials c JOIN users u ON u.id = c.user_id
                WHERE c.token_hash = ? AND c.revoked_at IS NULL""")
                .param(hash(secret))
                .query((rs, n) -> new Found(new Credential(rs.getString("id"), rs.getString("kind"), rs.getString("user_id"),
                        rs.getString("name"), rs.getString("hint"), rs.getString("csrf_token"), instant(rs, "created_at"),
                        instant(rs, "expires_at"), null, instant(rs, "last_used_at")), rs.getString("role"), rs.getString("username")))
                .optional()
                .filter(x -> x.credential().expiresAt() == null || x.credential().expiresAt().isAfter(now));
        f.ifPresent(x -> touch(x.credential().id(), now));
        return f;
    }

    private void touch(String id, Instant now) {
        Instant last = touched.get(id);
        if (last != null && last.plus(TOUCH_EVERY).isAfter(now)) return;
        touched.put(id, now);
        if (touched.size() > 100_000) touched.clear();
        jdbc.sql("UPDATE credentials SET last_used_at = ? WHERE id = ?").params(ts(now), id).update();
    }

    /** Revokes one credential; true if it was active. */
    public boolean revoke(String id) {
        return jdbc.sql("UPDATE credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .params(ts(clock.instant()), id).update() == 1;
    }

    /** Ends every session of a user (an admin's action); returns how many were open. */
    public int revokeSessions(String userId) {
        return jdbc.sql("UPDATE credentials SET revoked_at = ? WHERE user_id = ? AND kind = ? AND revoked_at IS NULL")
                .params(ts(clock.instant()), userId, SESSION).update();
    }

    public Optional<Credential> apiKey(String id) {
        return jdbc.sql("SELECT * FROM credentials WHERE id = ? AND kind = ? AND revoked_at IS NULL").params(id, API_KEY)
                .query(Credentials::map).optional();
    }

    /** A user's API keys that are not revoked, newest first. */
    public List<Credential> apiKeys(String userId) {
        return jdbc.sql("SELECT * FROM credentials WHERE user_id = ? AND kind = ? AND revoked_at IS NULL ORDER BY id DESC")
                .params(userId, API_KEY).query(Credentials::map).list();
    }

    /** Drops sessions that ended more than a day ago (they can never be used again). */
    @org.springframework.scheduling.annotation.Scheduled(fixedDelay = 3_600_000, initialDelay = 60_000)
    public int purgeEnded() {
        Instant cutoff = clock.instant().minus(Duration.ofDays(1));
        return jdbc.sql("DELETE FROM credentials WHERE kind = ? AND (expires_at < ? OR revoked_at < ?)")
                .params(SESSION, ts(cutoff), ts(cutoff)).update();
    }

    private static Credential map(java.sql.ResultSet rs, int n) throws java.sql.SQLException {
        return new Credential(rs.getString("id"), rs.getString("kind"), rs.getString("user_id"), rs.getString("name"),
                rs.getString("hint"), rs.getString("csrf_token"), instant(rs, "created_at"), instant(rs, "expires_at"),
                instant(rs, "revoked_at"), instant(rs, "last_used_at"));
    }

    static String hash(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

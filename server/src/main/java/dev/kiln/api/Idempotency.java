package dev.kiln.api;

import static dev.kiln.db.Db.ts;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Supplier;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@code Idempotency-Key}: a POST repeated with the same key and body gets the first answer, and
 * creates nothing; the same key with a different body is a 409. The key is stored in the same
 * transaction as what the request created.
 */
@Component
class Idempotency {
    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    private final Clock clock;

    Idempotency(JdbcClient jdbc, TransactionTemplate tx, Clock clock) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.clock = clock;
    }

    record Stored(String hash, int status, String body) {}

    /** A stored answer for this key, after checking the request is the same one. */
    Optional<ResponseEntity<String>> replay(String owner, String key, String scope, byte[] body) {
        if (key == null) return Optional.empty();
        check(key);
        String hash = hash(scope, body);
        return find(owner, key).map(s -> {
            if (!s.hash().equals(hash)) {
                throw new KilnException(ErrorCode.CONFLICT, "Idempotency-Key '" + key + "' was already used with a different request");
            }
            return ResponseEntity.status(s.status()).header("Idempotent-Replayed", "true")
                    .contentType(org.springframework.http.MediaType.APPLICATION_JSON).body(s.body());
        });
    }

    /**
     * Runs {@code create} in a transaction that also stores its answer under the key. If another
     * request with the same key won the race, its answer is returned instead.
     */
    ResponseEntity<String> run(String owner, String key, String scope, byte[] body, int status, Supplier<String> create) {
        if (key == null) return ResponseEntity.status(status).contentType(org.springframework.http.MediaType.APPLICATION_JSON)
                .body(tx.execute(s -> create.get()));
        String hash = hash(scope, body);
        try {
            String answer = tx.execute(s -> {
                String json = create.get();
                jdbc.sql("INSERT INTO idempotency (owner_id, idem_key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)")
                        .params(owner, key, hash, status, json, ts(clock.instant())).update();
                return json;
            });
            return ResponseEntity.status(status).contentType(org.springframework.http.MediaType.APPLICATION_JSON).body(answer);
        } catch (DuplicateKeyException e) {
            return replay(owner, key, scope, body).orElseThrow(() -> e);
        }
    }

    private Optional<Stored> find(String owner, String key) {
        return jdbc.sql("SELECT request_hash, status, body FROM idempotency WHERE owner_id = ? AND idem_key = ?").params(owner, key)
                .query((rs, n) -> new Stored(rs.getString(1), rs.getInt(2), rs.getString(3))).optional();
    }

    private static void check(String key) {
        if (key.isBlank() || key.length() > 255) {
            throw KilnException.validation("Idempotency-Key", "must be 1 to 255 characters");
        }
    }

    private static String hash(String scope, byte[] body) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(scope.getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(body);
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

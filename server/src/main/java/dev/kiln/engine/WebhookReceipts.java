package dev.kiln.engine;

import static dev.kiln.db.Db.ts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The provider webhook deliveries already received, by the SHA-256 of the provider's delivery id
 * ({@code webhook-id} for Standard Webhooks), kept in the database until they expire so that a
 * replay is ignored after a restart and on every instance.
 */
@Repository
public class WebhookReceipts {
    private final JdbcClient jdbc;

    WebhookReceipts(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Records a delivery; false if it was received before (a replay or a provider's retry). */
    boolean firstTime(String provider, String deliveryId, String jobId, Instant now, Instant expiresAt) {
        try {
            jdbc.sql("INSERT INTO webhook_receipts (provider, delivery_id, job_id, received_at, expires_at) VALUES (?, ?, ?, ?, ?)")
                    .params(provider, sha256(deliveryId), jobId, ts(now), ts(expiresAt)).update();
            return true;
        } catch (DuplicateKeyException e) {
            return false;
        }
    }

    /** Forgets deliveries whose replay window has passed; returns how many. */
    public int expire(Instant now) {
        return jdbc.sql("DELETE FROM webhook_receipts WHERE expires_at < ?").param(ts(now)).update();
    }

    static String sha256(String s) {
        return sha256(s.getBytes(StandardCharsets.UTF_8));
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.kiln.housekeeping;

import static dev.kiln.db.Db.ts;

import dev.kiln.config.RetentionProperties;
import java.time.Instant;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Stored answers of {@code Idempotency-Key} requests older than {@code KILN_RETAIN_IDEMPOTENCY}:
 * after that, the same key makes a new request (as with Stripe's 24 hours).
 */
@Component
class IdempotencyKeysTask extends HousekeepingTask {
    private final JdbcClient jdbc;
    private final RetentionProperties retention;

    IdempotencyKeysTask(JdbcClient jdbc, RetentionProperties retention) {
        this.jdbc = jdbc;
        this.retention = retention;
    }

    @Override
    String removes() {
        return "idempotency records";
    }

    @Override
    int runTask(Instant now) {
        return RetentionProperties.limit(retention.idempotency()).map(keep -> inBatches(() -> jdbc.sql("""
                DELETE FROM idempotency WHERE (owner_id, idem_key) IN
                  (SELECT owner_id, idem_key FROM idempotency WHERE created_at < ? LIMIT ?)""")
                .params(ts(now.minus(keep)), BATCH).update())).orElse(0);
    }
}

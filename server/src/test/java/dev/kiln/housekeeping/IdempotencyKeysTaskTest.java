package dev.kiln.housekeeping;

import static dev.kiln.db.Db.ts;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.config.RetentionProperties;
import dev.kiln.testing.TestDatabases;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The idempotency task's batched delete, on the embedded database and on PostgreSQL. */
class IdempotencyKeysTaskTest {

    @Test
    void h2() {
        try (HikariDataSource ds = TestDatabases.h2()) {
            removesOnlyOldRecords(ds);
        }
    }

    @Test
    void postgres() {
        try (HikariDataSource ds = TestDatabases.pg()) {
            removesOnlyOldRecords(ds);
        }
    }

    static void removesOnlyOldRecords(HikariDataSource ds) {
        JdbcClient jdbc = JdbcClient.create(ds);
        Instant now = Instant.now();
        for (int i = 0; i < 3; i++) insert(jdbc, "usr_a", "old-" + i, now.minus(Duration.ofHours(2)));
        insert(jdbc, "usr_b", "old-0", now.minus(Duration.ofHours(2)));
        insert(jdbc, "usr_a", "new", now.minus(Duration.ofMinutes(10)));
        RetentionProperties oneHour = new RetentionProperties(null, null, Duration.ofHours(1), null, null, null);
        assertThat(new IdempotencyKeysTask(jdbc, oneHour).run(now)).isEqualTo(4);
        assertThat(jdbc.sql("SELECT idem_key FROM idempotency").query(String.class).list()).containsExactly("new");
        RetentionProperties forGood = new RetentionProperties(null, null, Duration.ZERO, null, null, null);
        assertThat(new IdempotencyKeysTask(jdbc, forGood).run(now.plus(Duration.ofDays(30)))).isZero();
    }

    static void insert(JdbcClient jdbc, String owner, String key, Instant at) {
        jdbc.sql("INSERT INTO idempotency (owner_id, idem_key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)")
                .params(owner, key, "0".repeat(64), 202, "{}", ts(at)).update();
    }
}

package dev.kiln.compat.dotbase;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.testing.TestDatabases;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The {@code replicate_tokens} view over Kiln's provider accounts, read with the two SQL queries
 * of the {@code .base} documentation exactly as written, on H2 (the embedded default) and on
 * PostgreSQL.
 */
class ReplicateTokensViewTest {

    @Test
    void theSeedsQueriesRunUnchangedOnH2() {
        try (HikariDataSource ds = TestDatabases.h2()) {
            check(JdbcClient.create(ds));
        }
    }

    @Test
    void theSeedsQueriesRunUnchangedOnPostgres() {
        String schema = TestDatabases.newPgSchema();
        try (HikariDataSource ds = TestDatabases.pg(schema)) {
            check(JdbcClient.create(ds));
        } finally {
            TestDatabases.dropPgSchema(schema);
        }
    }

    private static void check(JdbcClient jdbc) {
        Instant used = Instant.parse("2026-11-24T10:00:00Z");
        account(jdbc, "acc_a", "replicate", "ready", 200, 3, used);
        account(jdbc, "acc_b", "replicate", "disabled", 50, 10, null);
        account(jdbc, "acc_c", "replicate", "failed", 0, 0, null);
        account(jdbc, "acc_w", "wavespeed", "ready", 999, 9, used);

        List<Map<String, Object>> rows = jdbc.sql(DotbaseExamples.SQL_TOKEN_STATS).query().listOfRows();
        assertThat(rows).extracting(r -> r.get("id")).containsExactly("acc_a", "acc_b", "acc_c");
        Map<String, Object> a = rows.get(0);
        assertThat(a.get("is_active")).isEqualTo(true);
        assertThat(((Number) a.get("request_count")).longValue()).isEqualTo(200);
        assertThat(((Number) a.get("error_count")).longValue()).isEqualTo(3);
        assertThat(instant(a.get("last_used_at"))).isEqualTo(used);
        assertThat(new BigDecimal(a.get("error_rate_percent").toString())).isEqualByComparingTo("1.50");
        assertThat(rows.get(1).get("is_active")).isEqualTo(false);
        assertThat(new BigDecimal(rows.get(1).get("error_rate_percent").toString())).isEqualByComparingTo("20.00");
        assertThat(rows.get(2).get("error_rate_percent")).as("no requests: NULLIF makes it null").isNull();
        assertThat(rows.get(2).get("is_active")).as("a failed token is out of rotation").isEqualTo(false);

        Map<String, Object> totals = jdbc.sql(DotbaseExamples.SQL_TOKEN_TOTALS).query().singleRow();
        assertThat(((Number) totals.get("total_tokens")).intValue()).isEqualTo(3);
        assertThat(((Number) totals.get("active_tokens")).intValue()).isEqualTo(1);
        assertThat(((Number) totals.get("total_requests")).longValue()).isEqualTo(250);
        assertThat(((Number) totals.get("total_errors")).longValue()).isEqualTo(13);
    }

    private static Instant instant(Object v) {
        if (v instanceof Timestamp t) return t.toInstant();
        if (v instanceof java.time.OffsetDateTime o) return o.toInstant();
        throw new AssertionError("not a timestamp: " + v + " (" + (v == null ? null : v.getClass()) + ")");
    }

    private static void account(JdbcClient jdbc, String id, String provider, String state, long requests, long errors, Instant lastUsed) {
        jdbc.sql("""
                INSERT INTO accounts (id, provider, label, source, base_url, state, max_concurrency, rate_per_minute, requests, errors,
                  last_used_at, created_at)
                VALUES (?, ?, ?, 'env', 'https://api.replicate.com/v1', ?, 4, 600, ?, ?, ?, ?)""")
                .params(id, provider, id, state, requests, errors, lastUsed == null ? null : Timestamp.from(lastUsed),
                        Timestamp.from(Instant.now())).update();
    }
}

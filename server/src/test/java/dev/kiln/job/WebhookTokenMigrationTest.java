package dev.kiln.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.account.AccountFixtures;
import dev.kiln.support.SecretBox;
import dev.kiln.testing.TestDatabases;
import java.nio.file.Path;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;

/** V4_2: tokens stored in clear before become digests of the derived tokens, on both databases. */
class WebhookTokenMigrationTest {
    final WebhookTokens tokens = new WebhookTokens(new SecretBox(AccountFixtures.props(Path.of("/tmp"))));

    @Test
    void h2() {
        try (HikariDataSource ds = TestDatabases.emptyH2()) {
            migratesClearTokens(ds);
        }
    }

    @Test
    void postgres() {
        try (HikariDataSource ds = TestDatabases.emptyPg()) {
            migratesClearTokens(ds);
        }
    }

    void migratesClearTokens(HikariDataSource ds) {
        Flyway.configure().dataSource(ds).locations("classpath:db/migration").target("2").load().migrate();
        JdbcClient jdbc = JdbcClient.create(ds);
        String clear = "a".repeat(64);
        jdbc.sql("""
                INSERT INTO jobs (id, owner_id, model, mode, status, phase, prompt, params, inputs, max_attempts, webhook_token,
                  deadline_at, created_at, updated_at)
                VALUES ('job_old', 'usr_a', 'm', 'txt2img', 'running', 'track', 'p', '{}', '{}', 3, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,
                  CURRENT_TIMESTAMP)""").param(clear).update();

        Flyway.configure().dataSource(ds).locations("classpath:db/migration").javaMigrations(new V4_2__WebhookTokenDigests(tokens))
                .load().migrate();

        String stored = jdbc.sql("SELECT webhook_token FROM jobs WHERE id = 'job_old'").query(String.class).single();
        assertThat(stored).isEqualTo(tokens.digestForJob("job_old")).doesNotContain(clear);
        JobStore store = new JobStore(jdbc, new JdbcTemplate(ds), dev.kiln.db.Dialect.of(ds));
        assertThat(store.findByWebhookToken(tokens.forJob("job_old"))).get().extracting(Job::id).isEqualTo("job_old");
        assertThat(store.findByWebhookToken(clear)).isEmpty();
    }
}

package dev.kiln.account;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.support.SecretBox;
import dev.kiln.testing.TestDatabases;
import java.nio.file.Path;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/** V4_3: secret settings stored in clear before (a webhook signing secret) are sealed; the others stay readable. */
class AccountSettingsMigrationTest {
    final SecretBox box = new SecretBox(AccountFixtures.props(Path.of("/tmp")));

    @Test
    void h2() {
        try (HikariDataSource ds = TestDatabases.emptyH2()) {
            sealsSecretSettings(ds);
        }
    }

    @Test
    void postgres() {
        try (HikariDataSource ds = TestDatabases.emptyPg()) {
            sealsSecretSettings(ds);
        }
    }

    void sealsSecretSettings(HikariDataSource ds) {
        Flyway.configure().dataSource(ds).locations("classpath:db/migration").target("2").load().migrate();
        JdbcClient jdbc = JdbcClient.create(ds);
        jdbc.sql("""
                INSERT INTO accounts (id, provider, label, source, base_url, secret, config, state, max_concurrency, rate_per_minute, created_at)
                VALUES ('acct_old', 'wavespeed', 'old', 'admin', 'http://x', NULL, ?, 'ready', 1, 1, CURRENT_TIMESTAMP)""")
                .param("{\"webhook_secret\":\"whsec-in-clear\",\"endpoint_id\":\"ep-1\"}").update();

        Flyway.configure().dataSource(ds).locations("classpath:db/migration").javaMigrations(new V4_3__SealAccountSettings(box))
                .load().migrate();

        String config = jdbc.sql("SELECT config FROM accounts WHERE id = 'acct_old'").query(String.class).single();
        assertThat(config).doesNotContain("whsec-in-clear").contains("ep-1");
        Account a = new AccountStore(jdbc, box).find("acct_old").orElseThrow();
        assertThat(a.config()).containsEntry("webhook_secret", "whsec-in-clear").containsEntry("endpoint_id", "ep-1");
    }
}

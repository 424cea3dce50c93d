package dev.kiln.run;

import static dev.kiln.db.Db.ts;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.support.Json;
import dev.kiln.testing.TestDatabases;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Runs left without jobs (after retention removed them) go too; on both databases. */
class RunStoreTest {

    @Test
    void h2() {
        try (HikariDataSource ds = TestDatabases.h2()) {
            removesOnlyOldEmptyRuns(ds);
        }
    }

    @Test
    void postgres() {
        try (HikariDataSource ds = TestDatabases.pg()) {
            removesOnlyOldEmptyRuns(ds);
        }
    }

    static void removesOnlyOldEmptyRuns(HikariDataSource ds) {
        JdbcClient jdbc = JdbcClient.create(ds);
        RunStore runs = new RunStore(jdbc);
        Instant now = Instant.now();
        runs.insert(new Run("run_old_empty", "usr_a", "m", "txt2img", 1, Json.object(), now.minus(Duration.ofHours(2))));
        runs.insert(new Run("run_old_busy", "usr_a", "m", "txt2img", 1, Json.object(), now.minus(Duration.ofHours(2))));
        runs.insert(new Run("run_new_empty", "usr_a", "m", "txt2img", 1, Json.object(), now));
        jdbc.sql("""
                INSERT INTO jobs (id, run_id, run_index, owner_id, model, mode, status, phase, prompt, params, inputs, max_attempts,
                  webhook_token, deadline_at, created_at, updated_at)
                VALUES ('job_1', 'run_old_busy', 0, 'usr_a', 'm', 'txt2img', 'queued', 'dispatch', 'p', '{}', '{}', 3, 'tok', ?, ?, ?)""")
                .params(ts(now.plus(Duration.ofHours(1))), ts(now), ts(now)).update();
        assertThat(runs.deleteEmpty(now.minus(Duration.ofHours(1)), 10)).isEqualTo(1);
        assertThat(runs.find("run_old_empty")).isEmpty();
        assertThat(runs.find("run_old_busy")).isPresent();
        assertThat(runs.find("run_new_empty")).isPresent();
    }
}

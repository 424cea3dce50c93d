package dev.kiln.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.testing.TestDatabases;
import java.util.List;

class PostgresJobStoreTest extends JobStoreContract {
    @Override
    HikariDataSource dataSource() {
        return TestDatabases.pg();
    }

    @Override
    void secondClaimerSees(List<String> second) {
        // PostgreSQL skips exactly the locked rows: the second claimer gets the next ten.
        assertThat(second).hasSize(10);
    }
}

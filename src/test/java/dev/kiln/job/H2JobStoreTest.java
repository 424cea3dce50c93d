package dev.kiln.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.testing.TestDatabases;
import java.util.List;

class H2JobStoreTest extends JobStoreContract {
    @Override
    HikariDataSource dataSource() {
        return TestDatabases.h2();
    }

    @Override
    void secondClaimerSees(List<String> second) {
        // H2 locks every row matching the WHERE clause before LIMIT, so claims serialize: safe, not parallel.
        assertThat(second).isEmpty();
    }
}

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
        // On H2 a claimer picks the first ids unlocked, then locks them: a second one finds the same
        // ids taken and gets none. Safe, not parallel; H2 is one process with one dispatcher anyway.
        assertThat(second).isEmpty();
    }
}

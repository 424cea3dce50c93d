package dev.kiln.credit;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.testing.TestDatabases;

class H2LedgerTest extends LedgerContract {
    @Override
    HikariDataSource dataSource() {
        return TestDatabases.h2();
    }
}

package dev.kiln.credit;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.testing.TestDatabases;

class PostgresLedgerTest extends LedgerContract {
    @Override
    HikariDataSource dataSource() {
        return TestDatabases.pg();
    }
}

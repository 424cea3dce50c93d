package dev.kiln.account;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.testing.TestDatabases;

class PostgresAccountPoolTest extends AccountPoolContract {
    @Override
    HikariDataSource dataSource() {
        return TestDatabases.pg();
    }
}

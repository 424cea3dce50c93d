package dev.kiln.account;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.testing.TestDatabases;

class H2AccountPoolTest extends AccountPoolContract {
    @Override
    HikariDataSource dataSource() {
        return TestDatabases.h2();
    }
}

package dev.kiln.asset;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.testing.TestDatabases;

/** {@link AssetRepository} on the embedded database (H2, PostgreSQL mode). */
class AssetRepositoryH2Test extends AssetRepositoryContract {
    @Override
    HikariDataSource openDatabase() {
        return TestDatabases.h2();
    }
}

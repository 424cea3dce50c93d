package dev.kiln.asset;

import com.zaxxer.hikari.HikariDataSource;

/** {@link AssetRepository} on the local PostgreSQL, in a schema of its own. */
class AssetRepositoryPostgresTest extends AssetRepositoryContract {
    private final String schema = TestDatabases.newSchemaName();

    @Override
    HikariDataSource openDatabase() {
        return TestDatabases.postgres(schema);
    }

    @Override
    void closeDatabase(HikariDataSource ds) throws Exception {
        ds.close();
        TestDatabases.dropPostgres(schema);
    }
}

package dev.kiln.asset;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.testing.TestDatabases;

/** {@link AssetRepository} on the local PostgreSQL, in a schema of its own. */
class AssetRepositoryPostgresTest extends AssetRepositoryContract {
    private String schema;

    @Override
    HikariDataSource openDatabase() {
        schema = TestDatabases.newPgSchema();
        return TestDatabases.pg(schema);
    }

    @Override
    void closeDatabase(HikariDataSource ds) throws Exception {
        ds.close();
        TestDatabases.dropPgSchema(schema);
    }
}

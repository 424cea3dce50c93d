package dev.kiln.crash;

import dev.kiln.testing.TestDatabases;
import java.util.Map;

/** {@link CrashContract} on PostgreSQL (KILN_DB_URL), in a fresh schema per run. */
class PostgresCrashTest extends CrashContract {
    private String schema;

    @Override
    Map<String, String> database() {
        if (schema == null) schema = TestDatabases.newPgSchema();
        return Map.of("KILN_DB_URL", TestDatabases.pgUrl(schema), "KILN_DB_USER", TestDatabases.PG_USER, "KILN_DB_PASSWORD", "");
    }

    @Override
    void dropDatabase() {
        if (schema != null) TestDatabases.dropPgSchema(schema);
    }
}

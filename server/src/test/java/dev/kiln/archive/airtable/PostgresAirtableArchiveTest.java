package dev.kiln.archive.airtable;

import dev.kiln.testing.TestDatabases;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link AirtableArchiveTest} with Kiln on PostgreSQL (a fresh schema): the outbox's SQL on the other database. */
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class PostgresAirtableArchiveTest extends AirtableArchiveTest {
    static String schema;

    @DynamicPropertySource
    static void postgres(DynamicPropertyRegistry r) throws Exception {
        schema = TestDatabases.newPgSchema();
        r.add("kiln.db-url", () -> TestDatabases.pgUrl(schema));
        r.add("kiln.db-user", () -> TestDatabases.PG_USER);
        r.add("kiln.data-dir", Files.createTempDirectory("kiln-airtable-pg")::toString);
    }

    @AfterAll
    static void drop() {
        if (schema != null) TestDatabases.dropPgSchema(schema);
    }
}

package dev.kiln.api;

import dev.kiln.testing.TestDatabases;
import org.junit.jupiter.api.AfterAll;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@link LanesFlowTest} with Kiln on PostgreSQL (a fresh schema): the fair claim there is one
 * locking query ({@code FOR UPDATE OF j SKIP LOCKED} over the ranked queue). The context is closed
 * after the class, so that its connections go back to the shared server.
 */
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class PostgresLanesFlowTest extends LanesFlowTest {
    static String schema;

    @DynamicPropertySource
    static void postgres(DynamicPropertyRegistry r) {
        schema = TestDatabases.newPgSchema();
        r.add("kiln.db-url", () -> TestDatabases.pgUrl(schema));
        r.add("kiln.db-user", () -> TestDatabases.PG_USER);
    }

    @AfterAll
    static void drop() {
        if (schema != null) TestDatabases.dropPgSchema(schema);
    }
}

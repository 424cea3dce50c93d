package dev.kiln.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Assumptions;

/**
 * Fresh, migrated databases for tests: an in-memory H2 in PostgreSQL mode (like the embedded
 * default), or a new schema in the local PostgreSQL (127.0.0.1:5432, database {@code test}).
 * PostgreSQL tests are skipped only when it is unreachable and {@code KILN_REQUIRE_PG} is unset;
 * CI sets it, so there they fail instead.
 */
public final class TestDatabases {
    public static final String PG_URL = System.getenv().getOrDefault("KILN_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    public static final String PG_USER = System.getenv().getOrDefault("KILN_TEST_PG_USER", "postgres");

    private TestDatabases() {}

    /** A fresh database with no schema, for tests of migrations (which migrate it themselves). */
    public static HikariDataSource emptyH2() {
        return pool("jdbc:h2:mem:" + UUID.randomUUID() + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000", "sa");
    }

    /** A new, empty schema in the local PostgreSQL, for tests of migrations. */
    public static HikariDataSource emptyPg() {
        return pool(pgUrl(newPgSchema()), PG_USER);
    }

    public static HikariDataSource h2() {
        return migrate(pool("jdbc:h2:mem:" + UUID.randomUUID() + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000", "sa"));
    }

    /** A new schema in the local PostgreSQL; its JDBC URL is {@link #pgUrl(String)}. */
    public static String newPgSchema() {
        requirePg();
        String schema = "kiln_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = DriverManager.getConnection(PG_URL, PG_USER, "")) {
            c.createStatement().execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return schema;
    }

    public static String pgUrl(String schema) {
        return PG_URL + (PG_URL.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    public static HikariDataSource pg() {
        return pg(newPgSchema());
    }

    /** A migrated pool on a schema made by {@link #newPgSchema()}; drop it with {@link #dropPgSchema(String)}. */
    public static HikariDataSource pg(String schema) {
        return migrate(pool(pgUrl(schema), PG_USER));
    }

    public static void dropPgSchema(String schema) {
        try (Connection c = DriverManager.getConnection(PG_URL, PG_USER, "")) {
            c.createStatement().execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        } catch (SQLException ignored) {
            // Best effort: a leftover schema in a test database harms nothing.
        }
    }

    public static boolean pgReachable() {
        try (Connection c = DriverManager.getConnection(PG_URL, PG_USER, "")) {
            return c.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    public static void requirePg() {
        if (System.getenv("KILN_REQUIRE_PG") == null) {
            Assumptions.assumeTrue(pgReachable(), "PostgreSQL at " + PG_URL + " is not reachable (set KILN_REQUIRE_PG=1 to fail instead)");
        }
    }

    private static HikariDataSource pool(String url, String user) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(url);
        c.setUsername(user);
        c.setPassword(user.equals("sa") ? "" : null);
        c.setMaximumPoolSize(12);
        return new HikariDataSource(c);
    }

    private static HikariDataSource migrate(HikariDataSource ds) {
        Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
        return ds;
    }
}

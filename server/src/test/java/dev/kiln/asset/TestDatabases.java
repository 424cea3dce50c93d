package dev.kiln.asset;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Assumptions;

/** Migrated databases for tests: H2 in memory (PostgreSQL mode), or a fresh schema on the local PostgreSQL. */
final class TestDatabases {
    static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";
    static final String PG_USER = "postgres";

    private TestDatabases() {}

    static HikariDataSource h2() {
        return migrated(pool("jdbc:h2:mem:" + UUID.randomUUID() + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1", "sa"));
    }

    /**
     * A pool on a new schema of the local PostgreSQL. Skips the test when PostgreSQL cannot be
     * reached, unless {@code KILN_REQUIRE_PG} is set (CI), where that is a failure.
     */
    static HikariDataSource postgres(String schema) {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            if (System.getenv("KILN_REQUIRE_PG") == null) {
                Assumptions.abort("PostgreSQL at " + PG_URL + " is not reachable (" + e.getMessage() + "); set KILN_REQUIRE_PG to make this a failure");
            }
            throw new IllegalStateException("KILN_REQUIRE_PG is set but PostgreSQL at " + PG_URL + " is not usable", e);
        }
        return migrated(pool(PG_URL + "?currentSchema=" + schema, PG_USER));
    }

    static void dropPostgres(String schema) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }

    static String newSchemaName() {
        return "kiln_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    private static Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", PG_USER);
        p.setProperty("connectTimeout", "3");
        return DriverManager.getConnection(PG_URL, p);
    }

    private static HikariDataSource pool(String url, String user) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername(user);
        hc.setMaximumPoolSize(4);
        return new HikariDataSource(hc);
    }

    private static HikariDataSource migrated(HikariDataSource ds) {
        Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
        return ds;
    }
}

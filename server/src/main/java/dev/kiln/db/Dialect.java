package dev.kiln.db;

import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import javax.sql.DataSource;

/** The few places where the embedded database and PostgreSQL differ, chosen from JDBC metadata. */
public enum Dialect {
    H2 {
        @Override public boolean singleProcess() { return true; }
    },
    POSTGRES {
        @Override public boolean singleProcess() { return false; }
    };

    /**
     * True when only one process can open the database (H2 file mode): leases held by an earlier
     * process are then dead at start-up and can be released at once.
     */
    public abstract boolean singleProcess();

    public static Dialect of(DataSource dataSource) {
        try (var c = dataSource.getConnection()) {
            DatabaseMetaData md = c.getMetaData();
            String name = md.getDatabaseProductName().toLowerCase();
            if (name.contains("postgres")) return POSTGRES;
            if (name.contains("h2")) return H2;
            throw new IllegalStateException("Unsupported database: " + md.getDatabaseProductName());
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot open the database: " + e.getMessage(), e);
        }
    }
}

package dev.kiln.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.config.KilnProperties;
import dev.kiln.support.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The embedded H2 database in {@code KILN_DATA_DIR} by default; PostgreSQL when {@code KILN_DB_URL}
 * is set.
 */
@Configuration(proxyBeanMethods = false)
class DatabaseConfig {

    /** Connections kept for the API and the engine loops, whatever the job runners are doing. */
    static final int RESERVED = 4;

    /**
     * The one DataSource bean (Flyway, JdbcClient and the transaction manager must all share it):
     * the Hikari pool, with job runners limited to all but {@link #RESERVED} connections.
     */
    @Bean(destroyMethod = "close")
    ReservedConnections dataSource(KilnProperties props) {
        HikariDataSource pool = pool(props);
        return new ReservedConnections(pool, "kiln-job-", pool.getMaximumPoolSize() - RESERVED, 30_000);
    }

    private static HikariDataSource pool(KilnProperties props) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("kiln");
        if (props.dbUrl() != null) {
            hc.setJdbcUrl(props.dbUrl());
            if (props.dbUser() != null && !props.dbUser().isBlank()) hc.setUsername(props.dbUser());
            if (props.dbPassword() != null && !props.dbPassword().isBlank()) hc.setPassword(props.dbPassword());
            hc.setMaximumPoolSize(20);
        } else {
            try {
                PrivateFiles.directory(props.dataDir());
                // H2 appends its trace (SQL errors, with their statements) to this file: created
                // first, it keeps the owner-only rights H2 itself would not give it.
                Path trace = props.dataDir().resolve("kiln.trace.db");
                if (!Files.exists(trace)) PrivateFiles.createFile(trace);
                PrivateFiles.restrict(trace);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot create KILN_DATA_DIR " + props.dataDir(), e);
            }
            // WRITE_DELAY=0: H2 has no write-ahead log, so a commit must reach the file before the
            // API answers 202; otherwise kill -9 could lose the last half second of accepted jobs.
            hc.setJdbcUrl("jdbc:h2:file:" + props.dataDir().resolve("kiln")
                    + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH"
                    + ";WRITE_DELAY=0;LOCK_TIMEOUT=10000"
                    // Spring closes the pool on shutdown; H2's own shutdown hook must not close the
                    // database first, under requests still in flight.
                    + ";DB_CLOSE_ON_EXIT=FALSE");
            hc.setUsername("sa");
            hc.setPassword("");
            hc.setMaximumPoolSize(16);
        }
        hc.setConnectionTimeout(10_000);
        HikariDataSource ds = new HikariDataSource(hc);
        if (props.dbUrl() == null) {
            // The pool opened the database, so its file exists now: owner-only, like the key.
            try {
                PrivateFiles.restrict(props.dataDir().resolve("kiln.mv.db"));
            } catch (IOException e) {
                ds.close();
                throw new UncheckedIOException("Cannot restrict the database file in " + props.dataDir(), e);
            }
        }
        return ds;
    }

    @Bean
    Dialect dialect(DataSource dataSource) {
        return Dialect.of(dataSource);
    }
}

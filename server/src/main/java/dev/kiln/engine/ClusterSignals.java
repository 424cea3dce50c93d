package dev.kiln.engine;

import dev.kiln.config.KilnProperties;
import dev.kiln.db.Dialect;
import dev.kiln.job.JobsQueued;
import jakarta.annotation.PreDestroy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * Wakes the loops of every instance sharing a PostgreSQL database: new jobs
 * and webhooks are announced with {@code NOTIFY kiln_wake}, and each instance listens on its own
 * connection. Without it other instances would still find the work, only up to a second later.
 * Nothing to do on the embedded database, where one process does all the work.
 */
@Component
class ClusterSignals {
    private static final Logger log = LoggerFactory.getLogger(ClusterSignals.class);
    static final String CHANNEL = "kiln_wake";
    private final boolean enabled;
    private final JdbcClient jdbc;
    private final KilnProperties props;
    private final Engine engine;
    private volatile boolean running;
    private Thread listener;

    ClusterSignals(Dialect dialect, JdbcClient jdbc, KilnProperties props, Engine engine) {
        this.enabled = dialect == Dialect.POSTGRES;
        this.jdbc = jdbc;
        this.props = props;
        this.engine = engine;
        engine.onExpedite(jobId -> announce("job:" + jobId));
    }

    @TransactionalEventListener
    void onQueued(JobsQueued e) {
        announce("dispatch");
    }

    void announce(String what) {
        if (!enabled) return;
        try {
            jdbc.sql("SELECT pg_notify(?, ?)").params(CHANNEL, what).query((rs, n) -> 0).list();
        } catch (RuntimeException e) {
            log.debug("could not announce {} to other instances: {}", what, e.toString());
        }
    }

    @EventListener(ApplicationReadyEvent.class)
    void start() {
        if (!enabled) return;
        running = true;
        listener = Thread.ofVirtual().name("kiln-listen").start(this::listen);
    }

    @PreDestroy
    void stop() {
        running = false;
        if (listener != null) listener.interrupt();
    }

    private void listen() {
        long backoff = 500;
        while (running) {
            try (Connection c = connect(); Statement s = c.createStatement()) {
                s.execute("LISTEN " + CHANNEL);
                backoff = 500;
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] got = pg.getNotifications(1000);
                    if (got == null) continue;
                    for (PGNotification n : got) {
                        String what = n.getParameter();
                        if ("dispatch".equals(what)) engine.wakeDispatcher();
                        else if (what != null && what.startsWith("job:")) engine.nudgeLocal(what.substring(4));
                        else engine.wakeTracker();
                    }
                }
            } catch (Throwable e) {
                if (!running) return;
                log.warn("listening for other instances failed ({}); retrying", e.toString());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(backoff * 2, 30_000);
            }
        }
    }

    private Connection connect() throws SQLException {
        Properties p = new Properties();
        if (props.dbUser() != null && !props.dbUser().isBlank()) p.setProperty("user", props.dbUser());
        if (props.dbPassword() != null && !props.dbPassword().isBlank()) p.setProperty("password", props.dbPassword());
        return DriverManager.getConnection(props.dbUrl(), p);
    }
}

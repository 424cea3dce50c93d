package dev.kiln.db;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Keeps some pool connections for the API. Thousands of job runners (virtual threads) would
 * otherwise take every connection in turn and leave an HTTP request waiting past the pool's
 * timeout; here threads whose name starts with {@code runnerPrefix} share {@code runnerLimit}
 * connections and everyone else the rest. A thread that already holds one is never blocked again
 * (nested use inside a transaction reuses it anyway), so this cannot deadlock.
 */
final class ReservedConnections extends DelegatingDataSource implements AutoCloseable {
    private final String runnerPrefix;
    private final Semaphore runnerPermits;
    private final long waitMillis;
    private final ThreadLocal<int[]> held = ThreadLocal.withInitial(() -> new int[1]);

    ReservedConnections(DataSource pool, String runnerPrefix, int runnerLimit, long waitMillis) {
        super(pool);
        this.runnerPrefix = runnerPrefix;
        this.runnerPermits = new Semaphore(runnerLimit, true);
        this.waitMillis = waitMillis;
    }

    /** Closes the pool underneath. */
    @Override
    public void close() throws Exception {
        if (getTargetDataSource() instanceof AutoCloseable pool) pool.close();
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (!Thread.currentThread().getName().startsWith(runnerPrefix)) return super.getConnection();
        int[] depth = held.get();
        boolean acquired = false;
        if (depth[0] == 0) {
            try {
                if (!runnerPermits.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) {
                    throw new SQLTransientConnectionException("job runners are using every connection reserved for them");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLTransientConnectionException("interrupted while waiting for a connection", e);
            }
            acquired = true;
        }
        try {
            Connection c = super.getConnection();
            depth[0]++;
            return wrap(c, depth, acquired);
        } catch (SQLException | RuntimeException e) {
            if (acquired) runnerPermits.release();
            throw e;
        }
    }

    private Connection wrap(Connection c, int[] depth, boolean releasesPermit) {
        AtomicBoolean closed = new AtomicBoolean();
        InvocationHandler h = (proxy, method, args) -> {
            if (method.getName().equals("close") && method.getParameterCount() == 0) {
                if (closed.compareAndSet(false, true)) {
                    try {
                        c.close();
                    } finally {
                        depth[0]--;
                        if (releasesPermit) runnerPermits.release();
                    }
                }
                return null;
            }
            if (method.getName().equals("isClosed") && method.getParameterCount() == 0 && closed.get()) return true;
            if (method.getName().equals("unwrap") && args != null && args.length == 1 && ((Class<?>) args[0]).isInstance(proxy)) return proxy;
            try {
                return method.invoke(c, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, h);
    }
}

package dev.kiln.pod;

import static dev.kiln.db.Db.instant;
import static dev.kiln.db.Db.ts;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The {@code pool_pods} and {@code pool_decisions} tables. */
@Repository
class PoolStore {
    private final JdbcClient jdbc;

    PoolStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    void insert(String id, String name, String gpuType, double costPerHr, Instant now) {
        jdbc.sql("""
                INSERT INTO pool_pods (id, name, state, gpu_type, cost_per_hr, created_at, started_at, state_changed_at)
                VALUES (?, ?, 'starting', ?, ?, ?, ?, ?)""").params(id, name, gpuType, costPerHr, ts(now), ts(now), ts(now)).update();
    }

    List<PoolPod> active() {
        return jdbc.sql("SELECT * FROM pool_pods WHERE state <> 'terminated' ORDER BY created_at").query(this::map).list();
    }

    List<PoolPod> all(int limit) {
        return jdbc.sql("SELECT * FROM pool_pods ORDER BY created_at DESC LIMIT ?").param(limit).query(this::map).list();
    }

    Optional<PoolPod> find(String id) {
        return jdbc.sql("SELECT * FROM pool_pods WHERE id = ?").param(id).query(this::map).optional();
    }

    void ready(String id, String accountId, String baseUrl, Instant now) {
        jdbc.sql("UPDATE pool_pods SET state = 'ready', account_id = ?, base_url = ?, ready_at = ?, last_busy_at = ?, state_changed_at = ?, misses = 0 WHERE id = ?")
                .params(accountId, baseUrl, ts(now), ts(now), ts(now), id).update();
    }

    void busy(String id, Instant now) {
        jdbc.sql("UPDATE pool_pods SET last_busy_at = ?, misses = 0 WHERE id = ?").params(ts(now), id).update();
    }

    void misses(String id, int misses) {
        jdbc.sql("UPDATE pool_pods SET misses = ? WHERE id = ?").params(misses, id).update();
    }

    /** Leaves the running states: adds its running time (and its idle time) to the sums. */
    void halt(PoolPod p, String state, double idleSeconds, Instant now) {
        double ran = p.running() ? Math.max(0, (now.toEpochMilli() - p.startedAt().toEpochMilli()) / 1000.0) : 0;
        jdbc.sql("""
                UPDATE pool_pods SET state = ?, state_changed_at = ?, running_seconds = running_seconds + ?, idle_seconds = idle_seconds + ?
                WHERE id = ?""").params(state, ts(now), ran, idleSeconds, p.id()).update();
    }

    void resumed(String id, Instant now) {
        jdbc.sql("UPDATE pool_pods SET state = 'starting', started_at = ?, ready_at = NULL, state_changed_at = ?, misses = 0 WHERE id = ?")
                .params(ts(now), ts(now), id).update();
    }

    void decide(Instant at, String action, String podId, String reason, PoolView view) {
        jdbc.sql("""
                INSERT INTO pool_decisions (at, action, pod_id, reason, queued, oldest_wait_seconds, pods, spend_per_hr)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)""")
                .params(ts(at), action, podId, reason.length() > 2000 ? reason.substring(0, 2000) : reason, view.queued(),
                        (int) Math.min(Integer.MAX_VALUE, view.oldestWait().toSeconds()), view.pods(), view.spendPerHr())
                .update();
    }

    List<PoolDecision> decisions(int limit) {
        return jdbc.sql("SELECT * FROM pool_decisions ORDER BY id DESC LIMIT ?").param(limit)
                .query((rs, i) -> new PoolDecision(rs.getLong("id"), instant(rs, "at"), rs.getString("action"), rs.getString("pod_id"),
                        rs.getString("reason"), rs.getInt("queued"), rs.getInt("oldest_wait_seconds"), rs.getInt("pods"),
                        rs.getDouble("spend_per_hr")))
                .list();
    }

    private PoolPod map(ResultSet rs, int row) throws SQLException {
        return new PoolPod(rs.getString("id"), rs.getString("name"), rs.getString("state"), rs.getString("gpu_type"),
                rs.getDouble("cost_per_hr"), rs.getString("account_id"), rs.getString("base_url"), instant(rs, "created_at"),
                instant(rs, "started_at"), instant(rs, "ready_at"), instant(rs, "last_busy_at"), instant(rs, "state_changed_at"),
                rs.getInt("misses"), rs.getDouble("running_seconds"), rs.getDouble("idle_seconds"));
    }
}

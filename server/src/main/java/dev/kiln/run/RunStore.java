package dev.kiln.run;

import static dev.kiln.db.Db.instant;
import static dev.kiln.db.Db.ts;

import dev.kiln.support.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

@Repository
class RunStore {
    private final JdbcClient jdbc;

    RunStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    void insert(Run r) {
        jdbc.sql("INSERT INTO runs (id, owner_id, model, mode, total, request, created_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                .params(r.id(), r.ownerId(), r.model(), r.mode(), r.total(), Json.write(r.request()), ts(r.createdAt()), r.origin())
                .update();
    }

    Optional<Run> find(String id) {
        return jdbc.sql("SELECT * FROM runs WHERE id = ?").param(id).query(RunStore::map).optional();
    }

    List<Run> list(String ownerId, String before, int limit) {
        StringBuilder sql = new StringBuilder("SELECT * FROM runs WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (ownerId != null) { sql.append(" AND owner_id = ?"); args.add(ownerId); }
        if (before != null) { sql.append(" AND id < ?"); args.add(before); }
        sql.append(" ORDER BY id DESC LIMIT ?");
        args.add(limit);
        return jdbc.sql(sql.toString()).params(args).query(RunStore::map).list();
    }

    /**
     * The runs one API created ({@code origin}), newest first, that still have a job their owner
     * has not deleted: what a façade lists as its tasks.
     */
    List<Run> listVisible(String ownerId, String origin, String before, int limit) {
        StringBuilder sql = new StringBuilder("SELECT * FROM runs r WHERE r.origin = ?"
                + " AND EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = r.id AND NOT j.deleted)");
        List<Object> args = new ArrayList<>();
        args.add(origin);
        if (ownerId != null) { sql.append(" AND r.owner_id = ?"); args.add(ownerId); }
        if (before != null) { sql.append(" AND r.id < ?"); args.add(before); }
        sql.append(" ORDER BY r.id DESC LIMIT ?");
        args.add(limit);
        return jdbc.sql(sql.toString()).params(args).query(RunStore::map).list();
    }

    /** Removes runs created before {@code before} that have no job left; returns how many. */
    int deleteEmpty(java.time.Instant before, int limit) {
        return jdbc.sql("""
                DELETE FROM runs WHERE id IN (SELECT r.id FROM runs r WHERE r.created_at < ?
                  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = r.id) LIMIT ?)""").params(ts(before), limit).update();
    }

    private static Run map(ResultSet rs, int row) throws SQLException {
        return new Run(rs.getString("id"), rs.getString("owner_id"), rs.getString("model"), rs.getString("mode"),
                rs.getInt("total"), Json.parse(rs.getString("request")), instant(rs, "created_at"), rs.getString("origin"));
    }
}

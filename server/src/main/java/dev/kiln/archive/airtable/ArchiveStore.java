package dev.kiln.archive.airtable;

import static dev.kiln.db.Db.instant;
import static dev.kiln.db.Db.ts;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The {@code airtable_archive} outbox: one row per run, what is left to write to Airtable and when to try. */
@Repository
class ArchiveStore {
    private final JdbcClient jdbc;

    ArchiveStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** One run's archive state. */
    record Row(String runId, String recordId, String status, boolean done, int outputsSent, Set<String> uploaded, String outputUrl,
               int attempts, String lastError, Instant nextAt, Instant createdAt, Instant syncedAt) {}

    /** When the newest run already in the archive was created, or empty when the archive is empty. */
    Optional<Instant> newestArchivedRun() {
        return jdbc.sql("SELECT MAX(r.created_at) AS newest FROM runs r JOIN airtable_archive a ON a.run_id = r.id")
                .query((rs, n) -> Optional.ofNullable(instant(rs, "newest"))).single();
    }

    /** Adds a row for every run created since {@code since} that has none; returns how many. */
    int discover(Instant since, Instant now) {
        return jdbc.sql("""
                INSERT INTO airtable_archive (run_id, next_at, created_at)
                SELECT r.id, ?, ? FROM runs r WHERE r.created_at >= ?
                  AND NOT EXISTS (SELECT 1 FROM airtable_archive a WHERE a.run_id = r.id)""")
                .params(ts(now), ts(now), ts(since)).update();
    }

    /** Claims up to {@code limit} due rows (oldest first) until {@code until}, so that another Kiln sharing the database leaves them. */
    List<Row> claimDue(Instant now, Instant until, int limit) {
        List<String> ids = jdbc.sql("""
                SELECT run_id FROM airtable_archive WHERE done = FALSE AND next_at <= ?
                  AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY created_at, run_id LIMIT ?""")
                .params(ts(now), ts(now), limit).query(String.class).list();
        List<Row> out = new ArrayList<>();
        for (String id : ids) {
            int n = jdbc.sql("UPDATE airtable_archive SET claimed_until = ? WHERE run_id = ? AND (claimed_until IS NULL OR claimed_until < ?)")
                    .params(ts(until), id, ts(now)).update();
            if (n == 1) find(id).ifPresent(out::add);
        }
        return out;
    }

    Optional<Row> find(String runId) {
        return jdbc.sql("SELECT * FROM airtable_archive WHERE run_id = ?").param(runId).query(ArchiveStore::map).optional();
    }

    /** A job of the run changed: look at it now, unless it is waiting out failures. */
    void touch(String runId, Instant now) {
        jdbc.sql("UPDATE airtable_archive SET next_at = ? WHERE run_id = ? AND done = FALSE AND attempts = 0 AND next_at > ?")
                .params(ts(now), runId, ts(now)).update();
    }

    /** What was written; the row is released and looked at again at {@code nextAt}. */
    void saved(String runId, String recordId, String status, boolean done, int outputsSent, Set<String> uploaded, String outputUrl,
               Instant nextAt, Instant now) {
        jdbc.sql("""
                UPDATE airtable_archive SET record_id = ?, status = ?, done = ?, outputs_sent = ?, uploaded = ?, output_url = ?,
                  attempts = 0, last_error = NULL, next_at = ?, claimed_until = NULL, synced_at = ? WHERE run_id = ?""")
                .params(recordId, status, done, outputsSent, uploaded.isEmpty() ? null : String.join(",", uploaded), outputUrl,
                        ts(nextAt), ts(now), runId).update();
    }

    /** Progress within one sync (a created record, an uploaded file), kept even if a later step fails. */
    void progress(String runId, String recordId, Set<String> uploaded, String outputUrl) {
        jdbc.sql("UPDATE airtable_archive SET record_id = ?, uploaded = ?, output_url = ? WHERE run_id = ?")
                .params(recordId, uploaded.isEmpty() ? null : String.join(",", uploaded), outputUrl, runId).update();
    }

    void failed(String runId, int attempts, String error, Instant nextAt) {
        jdbc.sql("UPDATE airtable_archive SET attempts = ?, last_error = ?, next_at = ?, claimed_until = NULL WHERE run_id = ?")
                .params(attempts, error.length() > 500 ? error.substring(0, 500) : error, ts(nextAt), runId).update();
    }

    /** Gives a claimed row back untouched (Airtable asked to wait). */
    void release(String runId, Instant nextAt) {
        jdbc.sql("UPDATE airtable_archive SET claimed_until = NULL, next_at = ? WHERE run_id = ?").params(ts(nextAt), runId).update();
    }

    void delete(String runId) {
        jdbc.sql("DELETE FROM airtable_archive WHERE run_id = ?").param(runId).update();
    }

    /** The backlog: rows not fully written, of which without a record yet, of which failing; the oldest waiting; the last error. */
    record Backlog(int pending, int withoutRecord, int failing, int archived, Instant oldestPending, String lastError) {}

    Backlog backlog() {
        return jdbc.sql("""
                SELECT SUM(CASE WHEN done = FALSE THEN 1 ELSE 0 END) AS pending,
                       SUM(CASE WHEN record_id IS NULL THEN 1 ELSE 0 END) AS no_record,
                       SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS failing,
                       SUM(CASE WHEN done = TRUE THEN 1 ELSE 0 END) AS archived,
                       MIN(CASE WHEN done = FALSE THEN created_at END) AS oldest
                FROM airtable_archive""").query((rs, n) -> new Backlog(rs.getInt("pending"), rs.getInt("no_record"), rs.getInt("failing"),
                rs.getInt("archived"), instant(rs, "oldest"), lastError())).single();
    }

    private String lastError() {
        return jdbc.sql("SELECT last_error FROM airtable_archive WHERE last_error IS NOT NULL ORDER BY next_at DESC LIMIT 1")
                .query(String.class).optional().orElse(null);
    }

    private static Row map(ResultSet rs, int n) throws SQLException {
        String up = rs.getString("uploaded");
        Set<String> uploaded = up == null || up.isEmpty() ? new LinkedHashSet<>() : new LinkedHashSet<>(Arrays.asList(up.split(",")));
        return new Row(rs.getString("run_id"), rs.getString("record_id"), rs.getString("status"), rs.getBoolean("done"),
                rs.getInt("outputs_sent"), uploaded, rs.getString("output_url"), rs.getInt("attempts"), rs.getString("last_error"),
                instant(rs, "next_at"), instant(rs, "created_at"), instant(rs, "synced_at"));
    }
}

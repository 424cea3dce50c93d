package dev.kiln.asset;

import dev.kiln.support.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The {@code assets} table, in plain SQL that H2 (PostgreSQL mode) and PostgreSQL both run. Every
 * statement joins the caller's Spring transaction when there is one ({@link JdbcClient} takes the
 * connection bound to the transaction).
 */
final class AssetRepository {
    private static final String COLUMNS = "id, owner_id, role, job_id, output_index, sha256, mime, size, width, height,"
            + " frames, fps, duration_ms, thumb_sha256, thumb_mime, sandbox, metadata, created_at";

    private final JdbcClient jdbc;

    AssetRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Inserts a row. For an output whose {@code (job_id, output_index)} is already there (a
     * repeated fetch after a crash or a lost lease) nothing changes, nothing fails, and the row
     * already stored is returned: the first one wins.
     */
    Asset insert(Asset a) {
        // ON CONFLICT DO NOTHING (both databases) rather than check-then-insert: two instances
        // finishing the same job at once would both pass the check. On PostgreSQL the second
        // insert waits for the first transaction and then does nothing.
        jdbc.sql("INSERT INTO assets (" + COLUMNS + ") VALUES (:id, :owner, :role, :job, :idx, :sha, :mime, :size,"
                        + " :width, :height, :frames, :fps, :duration, :thumbSha, :thumbMime, :sandbox, :metadata, :createdAt)"
                        + " ON CONFLICT DO NOTHING")
                .param("id", a.id())
                .param("owner", a.ownerId())
                .param("role", a.role())
                .param("job", a.jobId())
                .param("idx", a.outputIndex())
                .param("sha", a.sha256())
                .param("mime", a.mime())
                .param("size", a.size())
                .param("width", a.width())
                .param("height", a.height())
                .param("frames", a.frames())
                .param("fps", a.fps())
                .param("duration", a.durationMs())
                .param("thumbSha", a.thumbSha256())
                .param("thumbMime", a.thumbMime())
                .param("sandbox", a.sandbox())
                .param("metadata", Json.write(a.metadata()))
                .param("createdAt", a.createdAt().atOffset(ZoneOffset.UTC))
                .update();
        if (a.jobId() != null && a.outputIndex() != null) {
            return findOutput(a.jobId(), a.outputIndex())
                    .orElseThrow(() -> new IllegalStateException("output " + a.outputIndex() + " of job " + a.jobId() + " vanished after insert"));
        }
        return find(a.id()).orElseThrow(() -> new IllegalStateException("asset " + a.id() + " was not inserted"));
    }

    Optional<Asset> find(String id) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM assets WHERE id = :id").param("id", id)
                .query(AssetRepository::map).optional();
    }

    Optional<Asset> findOutput(String jobId, int outputIndex) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM assets WHERE job_id = :job AND output_index = :idx")
                .param("job", jobId).param("idx", outputIndex)
                .query(AssetRepository::map).optional();
    }

    /** A job's outputs in output order. */
    List<Asset> listByJob(String jobId) {
        return jdbc.sql("SELECT " + COLUMNS + " FROM assets WHERE job_id = :job ORDER BY output_index, id")
                .param("job", jobId)
                .query(AssetRepository::map).list();
    }

    /** The outputs of several jobs in one query, in output order. */
    List<Asset> listByJobs(java.util.Collection<String> jobIds) {
        if (jobIds.isEmpty()) return List.of();
        return jdbc.sql("SELECT " + COLUMNS + " FROM assets WHERE job_id IN (:jobs) ORDER BY job_id, output_index, id")
                .param("jobs", jobIds)
                .query(AssetRepository::map).list();
    }

    /**
     * An owner's assets, newest first (ids are time-ordered), after {@code cursor} (the last id of
     * the previous page, exclusive) or from the start when it is null.
     */
    List<Asset> listByOwner(String ownerId, String cursor, int limit) {
        String sql = "SELECT " + COLUMNS + " FROM assets WHERE owner_id = :owner"
                + (cursor == null ? "" : " AND id < :cursor")
                + " ORDER BY id DESC LIMIT :limit";
        var spec = jdbc.sql(sql).param("owner", ownerId).param("limit", limit);
        if (cursor != null) spec = spec.param("cursor", cursor);
        return spec.query(AssetRepository::map).list();
    }

    boolean delete(String id) {
        return jdbc.sql("DELETE FROM assets WHERE id = :id").param("id", id).update() > 0;
    }

    int deleteByJob(String jobId) {
        return jdbc.sql("DELETE FROM assets WHERE job_id = :job").param("job", jobId).update();
    }

    /** Whether any row still uses these bytes, as its file or as its thumbnail. */
    boolean isReferenced(String sha256) {
        return jdbc.sql("SELECT 1 FROM assets WHERE sha256 = :sha OR thumb_sha256 = :sha LIMIT 1")
                .param("sha", sha256)
                .query(Integer.class).optional().isPresent();
    }

    private static Asset map(ResultSet rs, int row) throws SQLException {
        return new Asset(
                rs.getString("id"),
                rs.getString("owner_id"),
                rs.getString("role"),
                rs.getString("job_id"),
                rs.getObject("output_index", Integer.class),
                rs.getString("sha256"),
                rs.getString("mime"),
                rs.getLong("size"),
                rs.getObject("width", Integer.class),
                rs.getObject("height", Integer.class),
                rs.getObject("frames", Integer.class),
                rs.getObject("fps", Double.class),
                rs.getObject("duration_ms", Long.class),
                rs.getString("thumb_sha256"),
                rs.getString("thumb_mime"),
                rs.getBoolean("sandbox"),
                Json.parse(rs.getString("metadata")),
                rs.getObject("created_at", OffsetDateTime.class).toInstant());
    }
}

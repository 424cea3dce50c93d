package dev.kiln.web;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The library's one query: outputs, newest first, one page at a time by keyset (asset ids are
 * time-ordered ULIDs, so {@code id < :after ORDER BY id DESC} walks back in time and every page
 * costs the same however deep). Filters: model, job status, prompt text (case-insensitive
 * substring) and creation date.
 */
@Component
class Library {
    private final JdbcClient jdbc;

    Library(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** What the library is filtered by; blank values filter nothing. */
    record Filter(String model, String status, String text, LocalDate from, LocalDate to) {}

    /** One tile: an output and what made it. */
    record Item(String assetId, String jobId, String runId, String mime, boolean thumbnail, String model, String status,
                String prompt, Instant createdAt) {
        public boolean video() {
            return mime.startsWith("video/");
        }
    }

    /**
     * @param ownerId whose outputs, or null for everyone's (an admin)
     * @param after the last asset id of the previous page, or null for the first
     */
    List<Item> page(String ownerId, Filter f, String after, int limit) {
        StringBuilder sql = new StringBuilder("""
                SELECT a.id, a.job_id, j.run_id, a.mime, a.thumb_sha256, j.model, j.status, j.prompt, a.created_at
                FROM assets a JOIN jobs j ON j.id = a.job_id
                WHERE a.role = 'output' AND j.deleted = FALSE""");
        List<Object> args = new ArrayList<>();
        if (ownerId != null) {
            sql.append(" AND a.owner_id = ?");
            args.add(ownerId);
        }
        if (after != null) {
            sql.append(" AND a.id < ?");
            args.add(after);
        }
        if (notBlank(f.model())) {
            sql.append(" AND j.model = ?");
            args.add(f.model());
        }
        if (notBlank(f.status())) {
            sql.append(" AND j.status = ?");
            args.add(f.status());
        }
        if (notBlank(f.text())) {
            sql.append(" AND LOWER(j.prompt) LIKE ? ESCAPE '\\'");
            args.add("%" + f.text().toLowerCase(Locale.ROOT).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
        }
        if (f.from() != null) {
            sql.append(" AND a.created_at >= ?");
            args.add(Timestamp.from(f.from().atStartOfDay(ZoneOffset.UTC).toInstant()));
        }
        if (f.to() != null) {
            sql.append(" AND a.created_at < ?");
            args.add(Timestamp.from(f.to().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant()));
        }
        sql.append(" ORDER BY a.id DESC LIMIT ").append(limit);
        return jdbc.sql(sql.toString()).params(args).query((rs, n) -> new Item(rs.getString(1), rs.getString(2), rs.getString(3),
                rs.getString(4), rs.getString(5) != null, rs.getString(6), rs.getString(7), rs.getString(8),
                rs.getTimestamp(9).toInstant())).list();
    }

    /** The models that have outputs in the library, for the filter. */
    List<String> models(String ownerId) {
        return ownerId == null
                ? jdbc.sql("SELECT DISTINCT model FROM jobs WHERE deleted = FALSE ORDER BY model").query(String.class).list()
                : jdbc.sql("SELECT DISTINCT model FROM jobs WHERE owner_id = ? AND deleted = FALSE ORDER BY model").param(ownerId)
                        .query(String.class).list();
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }
}

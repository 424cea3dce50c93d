package dev.kiln.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** JDBC conversions shared by the repositories: timestamps travel as UTC OffsetDateTime. */
public final class Db {
    private Db() {}

    public static OffsetDateTime ts(Instant i) {
        return i == null ? null : i.atOffset(ZoneOffset.UTC);
    }

    public static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    public static Integer integer(ResultSet rs, String column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? null : v;
    }

    /** Converts values bound as SQL parameters (Instant → OffsetDateTime); others pass through. */
    public static Object param(Object v) {
        return v instanceof Instant i ? ts(i) : v;
    }
}

package dev.kiln.user;

import static dev.kiln.db.Db.instant;
import static dev.kiln.db.Db.ts;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The SQL of the {@code users} table. */
@Repository
class UserStore {
    private final JdbcClient jdbc;

    UserStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** A user with its password hash, for login only. */
    record WithHash(User user, String passwordHash) {}

    void insert(User u, String passwordHash) {
        jdbc.sql("""
                INSERT INTO users (id, username, password_hash, role, telegram_id, telegram_username, display_name, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)""")
                .params(u.id(), u.username(), passwordHash, u.role(), u.telegramId(), u.telegramUsername(), u.displayName(),
                        ts(u.createdAt()))
                .update();
    }

    Optional<User> find(String id) {
        return jdbc.sql("SELECT * FROM users WHERE id = ?").param(id).query(UserStore::map).optional();
    }

    Optional<WithHash> findByUsername(String username) {
        return jdbc.sql("SELECT * FROM users WHERE username = ?").param(username)
                .query((rs, n) -> new WithHash(map(rs, n), rs.getString("password_hash"))).optional();
    }

    Optional<User> findByTelegramId(long telegramId) {
        return jdbc.sql("SELECT * FROM users WHERE telegram_id = ?").param(telegramId).query(UserStore::map).optional();
    }

    void updateTelegramProfile(String id, String telegramUsername, String displayName) {
        jdbc.sql("UPDATE users SET telegram_username = ?, display_name = ? WHERE id = ?")
                .params(telegramUsername, displayName, id).update();
    }

    /** Newest first; {@code before} is the last id of the previous page. */
    List<User> list(String before, int limit) {
        StringBuilder sql = new StringBuilder("SELECT * FROM users");
        List<Object> args = new ArrayList<>();
        if (before != null) { sql.append(" WHERE id < ?"); args.add(before); }
        sql.append(" ORDER BY id DESC LIMIT ?");
        args.add(limit);
        return jdbc.sql(sql.toString()).params(args).query(UserStore::map).list();
    }

    private static User map(ResultSet rs, int row) throws SQLException {
        long tg = rs.getLong("telegram_id");
        Long telegramId = rs.wasNull() ? null : tg;
        return new User(rs.getString("id"), rs.getString("username"), rs.getString("role"), telegramId,
                rs.getString("telegram_username"), rs.getString("display_name"), rs.getString("password_hash") != null,
                instant(rs, "created_at"));
    }
}

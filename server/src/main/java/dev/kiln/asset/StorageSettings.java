package dev.kiln.asset;

import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.function.Supplier;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Values every instance must agree on, kept in {@code storage_settings}: the first instance to need one creates it. */
final class StorageSettings {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final JdbcClient jdbc;

    StorageSettings(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** The key signing asset URLs: one per database, so any instance verifies what another signed. */
    byte[] urlKey() {
        return Base64.getDecoder().decode(getOrCreate("asset_url_key", () -> {
            byte[] k = new byte[32];
            RANDOM.nextBytes(k);
            return Base64.getEncoder().encodeToString(k);
        }));
    }

    String get(String name) {
        return jdbc.sql("SELECT val FROM storage_settings WHERE name = :name").param("name", name)
                .query(String.class).optional().orElse(null);
    }

    /** The stored value, or {@code value} stored now if there was none (a concurrent first writer wins). */
    String getOrCreate(String name, Supplier<String> value) {
        String v = get(name);
        if (v != null) return v;
        jdbc.sql("INSERT INTO storage_settings (name, val, created_at) VALUES (:name, :val, :now) ON CONFLICT DO NOTHING")
                .param("name", name).param("val", value.get()).param("now", OffsetDateTime.now(ZoneOffset.UTC)).update();
        return get(name);
    }
}

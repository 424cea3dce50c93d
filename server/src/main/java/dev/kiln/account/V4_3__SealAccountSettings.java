package dev.kiln.account;

import dev.kiln.support.Json;
import dev.kiln.support.SecretBox;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Seals the secret settings of accounts stored before they were sealed (e.g. a {@code webhook_secret}
 * in {@code accounts.config}); from now on {@link AccountStore} writes them sealed. A Java
 * migration because the key ({@link SecretBox}) is the application's, not the database's.
 */
@Component
class V4_3__SealAccountSettings extends BaseJavaMigration {
    private final SecretBox secrets;

    V4_3__SealAccountSettings(SecretBox secrets) {
        this.secrets = secrets;
    }

    @Override
    public void migrate(Context context) throws Exception {
        Map<String, String> updates = new LinkedHashMap<>();
        try (Statement s = context.getConnection().createStatement(); ResultSet rs = s.executeQuery("SELECT id, config FROM accounts")) {
            while (rs.next()) {
                JsonNode c = Json.parse(rs.getString("config"));
                if (c == null || !c.isObject()) continue;
                Map<String, String> config = new LinkedHashMap<>();
                boolean changed = false;
                for (Map.Entry<String, JsonNode> e : c.properties()) {
                    String v = e.getValue().isNull() ? null : e.getValue().asString();
                    if (v != null && SecretBox.isSecretName(e.getKey()) && !SecretBox.isSealed(v)) {
                        v = secrets.seal(v);
                        changed = true;
                    }
                    config.put(e.getKey(), v);
                }
                if (changed) updates.put(rs.getString("id"), Json.write(config));
            }
        }
        try (PreparedStatement ps = context.getConnection().prepareStatement("UPDATE accounts SET config = ? WHERE id = ?")) {
            for (Map.Entry<String, String> u : updates.entrySet()) {
                ps.setString(1, u.getValue());
                ps.setString(2, u.getKey());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}

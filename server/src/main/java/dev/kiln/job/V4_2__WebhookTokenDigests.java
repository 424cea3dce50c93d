package dev.kiln.job;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;
import org.springframework.stereotype.Component;

/**
 * Replaces the webhook tokens stored in clear in {@code jobs.webhook_token} by the digest of each
 * job's derived token ({@link WebhookTokens}). A job already submitted with its old token falls
 * back to polling (its provider's webhooks are then refused), which only costs latency. A Java
 * migration because the key is the application's, not the database's.
 */
@Component
class V4_2__WebhookTokenDigests extends BaseJavaMigration {
    private final WebhookTokens tokens;

    V4_2__WebhookTokenDigests(WebhookTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public void migrate(Context context) throws Exception {
        try (Statement s = context.getConnection().createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM jobs");
             PreparedStatement ps = context.getConnection().prepareStatement("UPDATE jobs SET webhook_token = ? WHERE id = ?")) {
            int n = 0;
            while (rs.next()) {
                String id = rs.getString(1);
                ps.setString(1, tokens.digestForJob(id));
                ps.setString(2, id);
                ps.addBatch();
                if (++n % 500 == 0) ps.executeBatch();
            }
            ps.executeBatch();
        }
    }
}

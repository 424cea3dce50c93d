package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.kiln.config.KilnProperties;
import dev.kiln.job.WebhookTokens;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * Secrets at rest: account credentials and secret settings (webhook signing secrets) are sealed,
 * job webhook tokens are stored only as digests, so neither the database nor a log of every bound
 * SQL value holds them; admin views mask every secret field; the data files are owner-only.
 */
@ExtendWith(OutputCaptureExtension.class)
class SecretsAtRestTest extends KilnIntegrationTest {
    @Autowired
    JdbcClient jdbc;
    @Autowired
    WebhookTokens tokens;
    @Autowired
    KilnProperties props;

    /** Its Replicate account points nowhere: left enabled, it would take other classes' Replicate jobs in the shared context. */
    @org.junit.jupiter.api.AfterEach
    void disableTheAccount() {
        jdbc.sql("UPDATE accounts SET state = 'disabled' WHERE provider = 'replicate' AND label LIKE 'secrets %'").update();
    }

    @Test
    void noSecretInTheDatabaseInBoundSqlValuesOrInAdminViews(CapturedOutput output) {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String secret = "sk-account-" + tag;
        String webhookSecret = "whsec-config-" + tag;
        String apiToken = "tok-config-" + tag;
        Logger sql = (Logger) LoggerFactory.getLogger("org.springframework.jdbc.core");
        Level before = sql.getLevel();
        sql.setLevel(Level.TRACE);
        String job;
        try {
            Http.Answer added = http.post("/v1/admin/accounts", """
                    {"provider":"replicate","label":"secrets %s","base_url":"http://127.0.0.1:9/v1","secret":"%s",
                     "config":{"webhook_secret":"%s","api_token":"%s","endpoint_id":"ep-visible"}}""".formatted(tag, secret, webhookSecret, apiToken));
            assertThat(added.status()).as(added.toString()).isEqualTo(201);
            for (JsonNode view : List.of(added.json(), http.get("/v1/admin/accounts/" + added.json().get("id").asString()).json())) {
                assertThat(view.get("config").get("webhook_secret").asString()).isEqualTo("(set)");
                assertThat(view.get("config").get("api_token").asString()).isEqualTo("(set)");
                assertThat(view.get("config").get("endpoint_id").asString()).isEqualTo("ep-visible");
                assertThat(view.get("has_secret").asBoolean()).isTrue();
                assertThat(view.toString()).doesNotContain(secret).doesNotContain(webhookSecret).doesNotContain(apiToken);
            }
            assertThat(http.get("/v1/admin/accounts").text()).doesNotContain(webhookSecret).doesNotContain(apiToken);

            job = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"secrets\",\"params\":{\"width\":64,\"height\":64}}");
            // A delivery looks its job up by the token (refused here: the signature is missing).
            assertThat(http.post("/webhooks/sandbox?token=" + tokens.forJob(job), "{}").status()).isEqualTo(401);
        } finally {
            sql.setLevel(before);
        }
        String token = tokens.forJob(job);
        awaitJob(job, java.time.Duration.ofSeconds(30));

        JsonNode row = jdbc.sql("SELECT secret, config FROM accounts WHERE label = ?").param("secrets " + tag)
                .query((rs, n) -> dev.kiln.support.Json.object().put("secret", rs.getString(1)).put("config", rs.getString(2))).single();
        assertThat(row.toString()).doesNotContain(secret).doesNotContain(webhookSecret).doesNotContain(apiToken).contains("ep-visible");
        assertThat(jdbc.sql("SELECT webhook_token FROM jobs WHERE id = ?").param(job).query(String.class).single())
                .isEqualTo(WebhookTokens.digest(token)).isNotEqualTo(token);

        assertThat(output.getAll()).as("the bound SQL values were logged").contains("parameter value");
        assertThat(output.getAll()).doesNotContain(secret).doesNotContain(webhookSecret).doesNotContain(apiToken).doesNotContain(token);
    }

    @Test
    void adminViewsMaskCredentialsInUrls() {
        assertThat(AdminAccountController.maskUrl("https://user:pa55@example.com:8443/v1?key=abc&region=eu&auth_token=t#f"))
                .isEqualTo("https://(set)@example.com:8443/v1?key=(set)&region=eu&auth_token=(set)#f");
        assertThat(AdminAccountController.maskUrl("http://127.0.0.1:8188")).isEqualTo("http://127.0.0.1:8188");
    }

    @Test
    void theDatabaseAndTheKeyAreReadableByTheOwnerOnly() throws Exception {
        for (String f : List.of("kiln.mv.db", "secret.key", "kiln.trace.db")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(props.dataDir().resolve(f)))).as(f).isEqualTo("rw-------");
        }
    }
}

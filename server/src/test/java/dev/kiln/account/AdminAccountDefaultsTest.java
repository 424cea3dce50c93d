package dev.kiln.account;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.emulator.fal.FalEmulator;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Accounts added through the admin API get the settings their provider's descriptor defaults
 * (as environment accounts do): a fal account without {@code jwks_url} verifies webhooks with
 * fal's published key set instead of refusing every delivery.
 */
class AdminAccountDefaultsTest extends KilnIntegrationTest {
    @Autowired
    AccountStore store;

    @Test
    void aFalAccountAddedWithoutAJwksUrlGetsFalsPublishedOne() {
        try (FalEmulator fal = FalEmulator.start(FalEmulator.Config.defaults().withApiKey("k"))) {
            Http.Answer a = http.post("/v1/admin/accounts",
                    "{\"provider\":\"fal\",\"label\":\"admin-added\",\"base_url\":\"" + fal.baseUrl() + "\",\"secret\":\"k\"}");
            assertThat(a.status()).as(a.toString()).isBetween(200, 201);
            Account added = store.find(a.json().get("id").asString()).orElseThrow();
            assertThat(added.config()).containsEntry("jwks_url", "https://rest.alpha.fal.ai/.well-known/jwks.json");

            // A setting the admin gives is kept.
            Http.Answer b = http.post("/v1/admin/accounts", "{\"provider\":\"fal\",\"label\":\"own-jwks\",\"base_url\":\"" + fal.baseUrl()
                    + "\",\"secret\":\"k\",\"config\":{\"jwks_url\":\"" + fal.jwksUrl() + "\"}}");
            assertThat(store.find(b.json().get("id").asString()).orElseThrow().config()).containsEntry("jwks_url", fal.jwksUrl());
            http.post("/v1/admin/accounts/" + added.id() + "/disable", "{}");
            http.post("/v1/admin/accounts/" + b.json().get("id").asString() + "/disable", "{}");
        }
    }
}

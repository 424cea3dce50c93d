package dev.kiln.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** What a model refuses, seen through the API: the job records the size or value really sent, and why. */
class ModelLimitsApiTest extends KilnIntegrationTest {

    @Test
    void aSeedreamSizeBelowTheModelsMinimumIsRaisedRecordedAndRuns() {
        String id = submitJob("{\"model\":\"seedream-v4.5\",\"prompt\":\"a kiln\",\"params\":{\"width\":1024,\"height\":1024}}");
        JsonNode job = http.get("/v1/jobs/" + id).json();
        assertThat(job.path("params").path("width").asLong()).isEqualTo(1920);
        assertThat(job.path("params").path("height").asLong()).isEqualTo(1920);
        assertThat(http.get("/v1/jobs/" + id + "/history").text()).contains("size 1024×1024 was raised to 1920×1920");

        JsonNode done = awaitJob(id, Duration.ofSeconds(60));
        assertThat(done.path("status").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("outputs").get(0).path("width").asInt()).isEqualTo(1920);
    }

    @Test
    void halfASeedreamSizeIsRefusedAndCreatesNothing() {
        // An edit has no default size (it follows its image), so a width alone cannot be completed.
        Http.Answer a = http.post("/v1/jobs", "{\"model\":\"seedream-v4.5\",\"mode\":\"img2img\",\"prompt\":\"a kiln\",\"images\":"
                + "{\"reference\":[\"" + CatalogRulesTableTest.tinyPng() + "\"]},\"params\":{\"width\":3000}}");
        assertThat(a.status()).isEqualTo(422);
        assertThat(a.text()).contains("params.height").contains("together, or neither");
    }

    @Test
    void aBirefnetResolutionIsCheckedAndSentAsTheModelRoundsIt() {
        String image = CatalogRulesTableTest.tinyPng();
        Http.Answer bad = http.post("/v1/jobs", "{\"model\":\"birefnet\",\"images\":{\"image\":[\"" + image
                + "\"]},\"params\":{\"resolution\":\"16x16\"}}");
        assertThat(bad.status()).isEqualTo(422);
        assertThat(bad.text()).contains("params.resolution").contains("between 32 and 2048");

        String id = submitJob("{\"model\":\"birefnet\",\"images\":{\"image\":[\"" + image + "\"]},\"params\":{\"resolution\":\"1000x700\"}}");
        assertThat(http.get("/v1/jobs/" + id).json().path("params").path("resolution").asString()).isEqualTo("992x672");
        assertThat(http.get("/v1/jobs/" + id + "/history").text()).contains("1000x700 was sent as 992x672");
        JsonNode done = awaitJob(id, Duration.ofSeconds(60));
        assertThat(done.path("status").asString()).as(done.toString()).isEqualTo("succeeded");
    }
}

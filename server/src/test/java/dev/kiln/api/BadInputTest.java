package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** Bad input gets a clear error (status, code, one entry per bad field) and changes nothing. */
class BadInputTest extends KilnIntegrationTest {
    @Autowired
    JdbcClient jdbc;
    HttpServer images;
    long jobsBefore;
    long assetsBefore;

    @BeforeEach
    void setUp() throws Exception {
        images = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        images.createContext("/text.png", x -> {
            byte[] b = "this is not an image".getBytes();
            x.getResponseHeaders().add("Content-Type", "image/png");
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        images.createContext("/huge.png", x -> {
            x.getResponseHeaders().add("Content-Type", "image/png");
            x.sendResponseHeaders(200, 21L * 1024 * 1024);
            try {
                x.getResponseBody().write(new byte[64 * 1024]);
                x.getResponseBody().flush();
            } catch (java.io.IOException e) {
                // The client hung up after reading the length, as it should.
            }
            x.close();
        });
        images.createContext("/missing.png", x -> {
            x.sendResponseHeaders(404, -1);
            x.close();
        });
        images.start();
        jobsBefore = count("jobs");
        assetsBefore = count("assets");
    }

    @AfterEach
    void tearDown() {
        images.stop(0);
    }

    long count(String table) {
        return jdbc.sql("SELECT COUNT(*) FROM " + table).query(Long.class).single();
    }

    String img(String path) {
        return "http://127.0.0.1:" + images.getAddress().getPort() + path;
    }

    /** Asserts a problem+json answer with this status and code, that nothing leaked and nothing was created. */
    JsonNode problem(Http.Answer a, int status, String code) {
        assertThat(a.status()).as(a.toString()).isEqualTo(status);
        assertThat(a.header("content-type")).startsWith("application/problem+json");
        JsonNode p = a.json();
        assertThat(p.get("code").asString()).isEqualTo(code);
        assertThat(p.get("status").asInt()).isEqualTo(status);
        assertThat(p.get("title").asString()).isNotBlank();
        assertThat(p.get("detail").asString()).isNotBlank();
        assertThat(a.text()).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("dev.kiln.");
        assertThat(count("jobs")).as("no job created").isEqualTo(jobsBefore);
        assertThat(count("assets")).as("no asset created").isEqualTo(assetsBefore);
        return p;
    }

    List<String> fields(JsonNode p) {
        List<String> f = new ArrayList<>();
        p.get("errors").forEach(e -> {
            assertThat(e.get("message").asString()).isNotBlank();
            f.add(e.get("field").asString());
        });
        return f;
    }

    @Test
    void malformedJsonIs400() {
        problem(http.post("/v1/jobs", "{\"model\": \"sandbox-image\", "), 400, "invalid_json");
        problem(http.post("/v1/jobs", ""), 400, "invalid_json");
        problem(http.post("/v1/jobs", "{\"model\":\"a\",\"model\":\"b\"}"), 400, "invalid_json");
        problem(http.post("/v1/runs", "{} {}"), 400, "invalid_json");
    }

    @Test
    void aWrongContentTypeIs415() {
        problem(http.postRaw("/v1/jobs", "text/plain", "{\"model\":\"sandbox-image\",\"prompt\":\"a\"}".getBytes()), 415, "unsupported_media_type");
    }

    @Test
    void aBodyOverTheLimitIs413() {
        String big = "{\"model\":\"sandbox-image\",\"prompt\":\"" + "x".repeat(9 * 1024 * 1024) + "\"}";
        problem(http.post("/v1/jobs", big), 413, "too_large");
    }

    @Test
    void anUnknownModelNamesTheField() {
        JsonNode p = problem(http.post("/v1/jobs", "{\"model\":\"dall-e-9\",\"prompt\":\"a\"}"), 422, "validation_failed");
        assertThat(fields(p)).containsExactly("model");
        assertThat(p.get("errors").get(0).get("message").asString()).contains("sandbox-image");
    }

    @Test
    void aParameterOutOfRangeOrAgainstALockedValueNamesTheField() {
        JsonNode p = problem(http.post("/v1/jobs", "{\"model\":\"test-locked\",\"prompt\":\"a\",\"params\":{\"steps\":20,\"cfg_scale\":7,\"width\":4000}}"),
                422, "validation_failed");
        assertThat(fields(p)).containsExactlyInAnyOrder("params.steps", "params.cfg_scale", "params.width");
        assertThat(p.toString()).contains("locked to 8").contains("locked to 1.0").contains("between 64 and 256");
    }

    @Test
    void aMissingRequiredImageNamesTheInput() {
        JsonNode p = problem(http.post("/v1/jobs", "{\"model\":\"test-locked\",\"mode\":\"img2img\",\"prompt\":\"a\"}"), 422, "validation_failed");
        assertThat(fields(p)).containsExactly("images.reference");
    }

    @Test
    void imagesThatAreNotImagesTooLargeOrMissingNameTheirIndex() {
        JsonNode p = problem(http.post("/v1/jobs", "{\"model\":\"test-locked\",\"prompt\":\"a\",\"images\":{\"reference\":[\""
                + img("/text.png") + "\",\"" + img("/huge.png") + "\"]}}"), 422, "validation_failed");
        assertThat(fields(p)).containsExactly("images.reference[0]", "images.reference[1]");
        assertThat(p.get("errors").get(1).get("message").asString()).contains("20 MB");
        JsonNode q = problem(http.post("/v1/jobs", "{\"model\":\"test-locked\",\"prompt\":\"a\",\"images\":{\"reference\":[\""
                + img("/missing.png") + "\",\"data:image/png;base64,!!!\"]}}"), 422, "validation_failed");
        assertThat(fields(q)).containsExactly("images.reference[0]", "images.reference[1]");
        assertThat(q.get("errors").get(0).get("message").asString()).contains("404");
    }

    @Test
    void everyBadFieldIsListedOnce() {
        JsonNode p = problem(http.post("/v1/runs", """
                {"model":"sandbox-image","prompts":["ok",""],"count":0,"priority":"high","params":{"width":1,"bogus":true},
                 "grid":{"height":[64,"x"]},"webhook":{"url":"not a url"},"extra":1}"""), 422, "validation_failed");
        assertThat(fields(p)).containsExactlyInAnyOrder("prompts[1]", "count", "priority", "params.width", "params.bogus",
                "grid.height[1]", "webhook.url", "extra");
    }

    @Test
    void aRunOverTheJobLimitIsRefused() {
        JsonNode p = problem(http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"a\",\"b\"],\"count\":101}"), 422, "validation_failed");
        assertThat(fields(p)).containsExactly("prompts");
        assertThat(p.get("errors").get(0).get("message").asString()).contains("202 jobs").contains("200");
    }

    @Test
    void unknownPathsAndMethodsAreProblemsToo() {
        assertThat(http.get("/v1/nothing-here").status()).isEqualTo(404);
        assertThat(http.get("/v1/jobs/job_01jxxxxxxxxxxxxxxxxxxxxxxx").json().get("code").asString()).isEqualTo("not_found");
        Http.Answer m = http.delete("/v1/runs");
        assertThat(m.status()).isEqualTo(405);
        assertThat(m.json().get("code").asString()).isEqualTo("method_not_allowed");
    }
}

package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * What a hostile client sends in strings, numbers and URLs (docs/SECURITY.md, "Hostile input"):
 * each gets one problem+json answer naming the field, never a 500, and nothing is stored.
 */
class HostileInputTest extends KilnIntegrationTest {
    @Autowired
    JdbcClient jdbc;
    long jobsBefore;

    @BeforeEach
    void count() {
        jobsBefore = jobs();
    }

    long jobs() {
        return jdbc.sql("SELECT COUNT(*) FROM jobs").query(Long.class).single();
    }

    JsonNode problem(Http.Answer a, int status, String code) {
        assertThat(a.status()).as(a.toString()).isEqualTo(status);
        assertThat(a.header("content-type")).startsWith("application/problem+json");
        JsonNode p = a.json();
        assertThat(p.get("code").asString()).isEqualTo(code);
        assertThat(p.get("status").asInt()).isEqualTo(status);
        assertThat(jobs()).as("nothing stored").isEqualTo(jobsBefore);
        return p;
    }

    static List<String> fields(JsonNode p) {
        List<String> f = new ArrayList<>();
        p.get("errors").forEach(e -> f.add(e.get("field").asString()));
        return f;
    }

    @Test
    void nulAndUnpairedSurrogatesInAnyStringAre422() {
        JsonNode p = problem(http.post("/v1/jobs", """
                {"model":"sandbox-image","prompt":"a\\u0000b","negative_prompt":"x\\ud800",
                 "params":{"output_format":"\\udc00png"},"webhook":{"url":"http://127.0.0.1:9/\\u0000"}}"""), 422, "validation_failed");
        assertThat(fields(p)).containsExactlyInAnyOrder("prompt", "negative_prompt", "params.output_format", "webhook.url");
        assertThat(p.toString()).contains("NUL character").contains("unpaired UTF-16 surrogate (\\\\uD800)");

        p = problem(http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"fine\",\"bad\\u0000\"]}"), 422, "validation_failed");
        assertThat(fields(p)).containsExactly("prompts[1]");
        p = problem(http.post("/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"a\",\"params\":{\"k\\u0000\":1}}"), 422, "validation_failed");
        assertThat(fields(p)).containsExactly("params.(field name)");
        // A pair of surrogates is a real character (here U+1F600) and welcome.
        String smile = submitJob("{\"model\":\"sandbox-image\",\"prompt\":\"smile \\ud83d\\ude00\",\"params\":{\"width\":64,\"height\":64}}");
        assertThat(awaitJob(smile, java.time.Duration.ofSeconds(30)).get("prompt").asString()).isEqualTo("smile \uD83D\uDE00");
    }

    @Test
    void numbersBeyond64BitsAre422() {
        JsonNode p = problem(http.post("/v1/jobs", """
                {"model":"sandbox-image","prompt":"a","params":{"seed":99999999999999999999,"width":1e400},"priority":-18446744073709551617}"""),
                422, "validation_failed");
        assertThat(fields(p)).containsExactlyInAnyOrder("params.seed", "params.width", "priority");
        assertThat(p.toString()).contains("beyond 64 bits");
        p = problem(http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"a\"],\"count\":" + "9".repeat(1500) + "}"),
                422, "validation_failed");
        assertThat(p.get("errors").get(0).get("message").asString()).contains("64 bits");
    }

    @Test
    void malformedPercentEncodingIs400AndNulInAQueryValueIs422() throws IOException {
        for (String q : List.of("status=%zz", "model=%E0%A4", "model=%ED%A0%80", "model=abc%", "%G0=1")) {
            // The JDK client refuses to send broken escapes, so these go over a raw socket.
            String raw = rawRequest("GET /v1/jobs?" + q + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            assertThat(raw).as(q).startsWith("HTTP/1.1 400").contains("application/problem+json").contains("\"invalid_request\"");
        }
        JsonNode p = problem(http.get("/v1/jobs?model=a%00b"), 422, "validation_failed");
        assertThat(fields(p)).containsExactly("model");
        assertThat(http.get("/v1/jobs?model=sandbox-image&status=queued").status()).isEqualTo(200);
    }

    @Test
    void requestsTomcatRefusesBeforeAnyServletAreProblemJsonToo() throws IOException {
        for (String path : List.of("/v1/jobs/a%00b", "/v1/jobs/a%zzb", "/v1/jobs/a%ED%A0%80b")) {
            String raw = rawRequest("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            assertThat(raw).as(path).startsWith("HTTP/1.1 400").contains("application/problem+json").contains("\"invalid_request\"")
                    .doesNotContain("<html").doesNotContain("Tomcat");
        }
        // A raw request the JDK client would not even send: a bad header line.
        String raw = rawRequest("GET /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nBad header line\r\n\r\n");
        assertThat(raw).startsWith("HTTP/1.1 400").contains("application/problem+json").doesNotContain("<html");
    }

    @Test
    void aLongListOfBadFieldsIsCappedAtTheFirstHundredWithACount() {
        String prompts = IntStream.range(0, 250).mapToObj(i -> "\"p\\u0000\"").collect(Collectors.joining(","));
        JsonNode p = problem(http.post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[" + prompts + "]}"), 422, "validation_failed");
        assertThat(p.get("errors")).hasSize(100);
        assertThat(p.get("errors_total").asInt()).isEqualTo(250);
        assertThat(p.get("detail").asString()).isEqualTo("250 fields are invalid (the first 100 are listed)");
        assertThat(fields(p).getFirst()).isEqualTo("prompts[0]");
        // A short list has no count.
        assertThat(problem(http.post("/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"\\u0000\"}"), 422, "validation_failed")
                .has("errors_total")).isFalse();
    }

    @Test
    void theDocsNameKilnItsVersionAndHowToStart() {
        JsonNode info = http.get("/openapi.json").json().get("info");
        assertThat(info.get("title").asString()).isEqualTo("Kiln API");
        assertThat(info.get("version").asString()).isNotBlank().isNotEqualTo("v0");
        assertThat(info.get("description").asString()).contains("sandbox").contains("POST /v1/runs").contains("/v1/assets")
                .contains("KILN_DATA_DIR");
        assertThat(http.get("/docs").status()).isBetween(200, 399);
    }

    private String rawRequest(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}

package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.testing.Http;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The OpenAPI document passes Redocly's linter with its recommended rules and no errors, declares
 * the four security schemes, and says which each operation needs. Redocly CLI comes from npm
 * ({@code .ci/run} installs the pinned version); without it this test is skipped, unless
 * {@code KILN_REQUIRE_REDOCLY} is set (CI sets it), and then it fails.
 */
class OpenApiLintTest extends OnModeTest {
    @Test
    void theDocumentDeclaresWhoMayCallEachOperationAndItsErrors() {
        JsonNode doc = anon.get("/openapi.json").json();
        JsonNode schemes = doc.get("components").get("securitySchemes");
        assertThat(schemes.get("sessionCookie").get("in").asString()).isEqualTo("cookie");
        assertThat(schemes.get("sessionCookie").get("name").asString()).isEqualTo("kiln_session");
        assertThat(schemes.get("bearer").get("scheme").asString()).isEqualTo("bearer");
        assertThat(schemes.get("apiKey").get("name").asString()).isEqualTo("X-API-Key");
        assertThat(schemes.get("adminKey").get("name").asString()).isEqualTo("x-admin-key");

        JsonNode paths = doc.get("paths");
        assertThat(paths.get("/v1/models").get("get").get("security")).isEmpty();
        assertThat(paths.get("/v1/auth/login").get("post").get("security")).isEmpty();
        assertThat(paths.get("/v1/jobs").get("post").get("security").toString()).contains("sessionCookie", "bearer", "apiKey");
        JsonNode submit = paths.get("/v1/jobs").get("post").get("responses");
        for (String code : List.of("400", "401", "402", "403", "409", "422", "503")) assertThat(submit.has(code)).as(code).isTrue();
        assertThat(paths.get("/v1/jobs/{id}").get("get").get("responses").has("404")).isTrue();
        assertThat(paths.get("/v1/admin/users").get("get").get("responses").has("403")).isTrue();
        assertThat(paths.get("/v1/auth/login").get("post").get("responses").has("429")).isTrue();
        // Every operation has its security stated, and every one that takes input its 4xx answers.
        paths.properties().forEach(p -> p.getValue().properties().forEach(op -> {
            assertThat(op.getValue().has("security")).as(op.getKey() + " " + p.getKey()).isTrue();
            if (p.getKey().startsWith("/health")) return;
            assertThat(op.getValue().get("responses").propertyNames().stream().anyMatch(c -> c.startsWith("4")))
                    .as("4xx of " + op.getKey() + " " + p.getKey()).isTrue();
        }));
    }

    @Test
    void redoclyRecommendedRulesFindNoErrors() throws Exception {
        String redocly = System.getenv().getOrDefault("KILN_REDOCLY", "redocly");
        if (!runs(redocly, "--version")) {
            if (System.getenv("KILN_REQUIRE_REDOCLY") != null) {
                throw new AssertionError("KILN_REQUIRE_REDOCLY is set but '" + redocly + "' does not run (npm install -g @redocly/cli)");
            }
            Assumptions.abort("Redocly CLI ('" + redocly + "') is not installed; set KILN_REQUIRE_REDOCLY=1 to fail instead");
        }
        Http.Answer doc = anon.get("/openapi.json");
        assertThat(doc.status()).isEqualTo(200);
        Path file = Path.of("target", "openapi.json").toAbsolutePath();
        Files.createDirectories(file.getParent());
        Files.write(file, doc.body());
        ProcessBuilder pb = new ProcessBuilder(redocly, "lint", "--extends=recommended", "--format=stylish", file.toString())
                .redirectErrorStream(true);
        pb.environment().put("REDOCLY_TELEMETRY", "off");
        pb.environment().put("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("redocly lint (recommended) of %s:\n%s", file, out).isZero();
        assertThat(out).doesNotContainPattern("(?m)^\\s*\\d+:\\d+\\s+error");
    }

    private static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}

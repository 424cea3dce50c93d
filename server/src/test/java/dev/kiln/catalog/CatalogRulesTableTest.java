package dev.kiln.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One table over the whole catalogue, as GET /v1/models describes it: for every model × mode ×
 * rule (locked value, range, enum, type, required parameter, required or foreign image input), a
 * request breaking just that rule gets a 422 naming that field, and creates nothing.
 */
class CatalogRulesTableTest extends KilnIntegrationTest {
    @Autowired
    JdbcClient jdbc;

    static String tinyPng() {
        try {
            BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A request for this model and mode that satisfies every rule. */
    static ObjectNode valid(JsonNode model, JsonNode mode) {
        ObjectNode r = Json.object();
        r.put("model", model.get("id").asString());
        r.put("mode", mode.get("id").asString());
        if (mode.get("prompt").asString().equals("required")) r.put("prompt", "a test");
        ObjectNode images = r.putObject("images");
        for (JsonNode in : mode.get("images")) {
            String name = in.get("name").asString().equals("*") ? "input.png" : in.get("name").asString();
            for (int i = 0; i < Math.max(1, in.get("min").asInt()); i++) images.withArray(name).add(tinyPng());
        }
        ObjectNode params = r.putObject("params");
        for (JsonNode p : model.get("params")) {
            if (p.path("required").asBoolean() && applies(p, mode)) params.set(p.get("name").asString(), Json.parse("{}"));
        }
        return r;
    }

    static boolean applies(JsonNode p, JsonNode mode) {
        JsonNode modes = p.get("modes");
        if (modes == null || modes.isNull()) return true;
        for (JsonNode m : modes) if (m.asString().equals(mode.get("id").asString())) return true;
        return false;
    }

    record Case(String name, ObjectNode body, String field, String mustSay) {}

    static List<Case> cases(JsonNode model, JsonNode mode) {
        List<Case> out = new ArrayList<>();
        String id = model.get("id").asString() + "/" + mode.get("id").asString();
        for (JsonNode p : model.get("params")) {
            if (!applies(p, mode)) continue;
            String name = p.get("name").asString();
            String field = "params." + name;
            String type = p.get("type").asString();
            if (p.hasNonNull("locked")) {
                ObjectNode b = valid(model, mode);
                JsonNode locked = p.get("locked");
                ((ObjectNode) b.get("params")).set(name, locked.isNumber() ? Json.tree(locked.asDouble() + 1) : Json.tree("other"));
                out.add(new Case(id + " locked " + name, b, field, "locked to " + Json.write(locked)));
            }
            if (p.hasNonNull("min")) {
                ObjectNode b = valid(model, mode);
                ((ObjectNode) b.get("params")).set(name, Json.tree(type.equals("integer") ? p.get("min").asLong() - 1 : p.get("min").asDouble() - 0.5));
                out.add(new Case(id + " below min " + name, b, field, "between"));
            }
            if (p.hasNonNull("max")) {
                ObjectNode b = valid(model, mode);
                ((ObjectNode) b.get("params")).set(name, Json.tree(type.equals("integer") ? p.get("max").asLong() + 1 : p.get("max").asDouble() + 0.5));
                out.add(new Case(id + " above max " + name, b, field, "between"));
            }
            if (p.hasNonNull("enum")) {
                ObjectNode b = valid(model, mode);
                ((ObjectNode) b.get("params")).set(name, type.equals("string") ? Json.tree("not-an-option") : Json.tree(987654));
                out.add(new Case(id + " outside enum " + name, b, field, "one of"));
            }
            if (!type.equals("string")) {
                ObjectNode b = valid(model, mode);
                ((ObjectNode) b.get("params")).put(name, "a string");
                out.add(new Case(id + " wrong type " + name, b, field, "must be"));
            }
            if (p.path("required").asBoolean()) {
                ObjectNode b = valid(model, mode);
                ((ObjectNode) b.get("params")).remove(name);
                out.add(new Case(id + " missing " + name, b, field, "is required"));
            }
        }
        for (JsonNode in : mode.get("images")) {
            if (in.get("min").asInt() < 1 || in.get("name").asString().equals("*")) continue;
            ObjectNode b = valid(model, mode);
            ((ObjectNode) b.get("images")).remove(in.get("name").asString());
            out.add(new Case(id + " without image " + in.get("name").asString(), b, "images." + in.get("name").asString(), "needs"));
        }
        if (mode.get("images").isEmpty()) {
            ObjectNode b = valid(model, mode);
            ((ObjectNode) b.get("images")).putArray("foreign").add(tinyPng());
            out.add(new Case(id + " with a foreign image", b, "images.foreign", "takes no image inputs"));
        }
        return out;
    }

    @TestFactory
    List<DynamicTest> everyRuleOfEveryModelAndModeIsEnforced() {
        client();
        JsonNode models = http.get("/v1/models").json().get("items");
        List<DynamicTest> tests = new ArrayList<>();
        int[] count = {0};
        for (JsonNode model : models) {
            for (JsonNode mode : model.get("modes")) {
                for (Case c : cases(model, mode)) {
                    count[0]++;
                    tests.add(DynamicTest.dynamicTest(c.name(), () -> {
                        long before = jdbc.sql("SELECT COUNT(*) FROM jobs").query(Long.class).single();
                        Http.Answer a = http.post("/v1/jobs", Json.write(c.body()));
                        assertThat(a.status()).as(c.name() + ": " + a).isEqualTo(422);
                        JsonNode p = a.json();
                        assertThat(p.get("code").asString()).isEqualTo("validation_failed");
                        List<String> fields = new ArrayList<>();
                        JsonNode match = null;
                        for (JsonNode e : p.get("errors")) {
                            fields.add(e.get("field").asString());
                            if (e.get("field").asString().equals(c.field())) match = e;
                        }
                        assertThat(fields).as(c.name()).containsExactly(c.field());
                        assertThat(match.get("message").asString()).as(c.name()).contains(c.mustSay());
                        assertThat(jdbc.sql("SELECT COUNT(*) FROM jobs").query(Long.class).single()).isEqualTo(before);
                    }));
                }
            }
        }
        assertThat(models.size()).isGreaterThanOrEqualTo(12);
        assertThat(count[0]).isGreaterThan(100);
        return tests;
    }

    private void client() {
        if (http == null) http = new Http("http://127.0.0.1:" + port);
    }
}

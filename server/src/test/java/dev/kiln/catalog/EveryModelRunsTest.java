package dev.kiln.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Issue 4's "every model × mode runs end to end in the sandbox": for each model the API lists,
 * and each of its modes, a request is built from the schema alone (as a client would: defaults,
 * the smallest allowed sizes and frame counts, the images the mode requires), sent, and must
 * succeed with outputs of the model's kind, stored and downloadable.
 */
class EveryModelRunsTest extends KilnIntegrationTest {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    @TestFactory
    Stream<DynamicTest> everyModelAndModeSucceedsInTheSandbox() {
        JsonNode models = new Http(base()).get("/v1/models").json().get("items");
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode m : models) {
            String id = m.get("id").asString();
            if (id.startsWith("test-")) continue; // the test catalogue's fault models
            for (JsonNode mode : m.get("modes")) {
                String modeId = mode.get("id").asString();
                tests.add(DynamicTest.dynamicTest(id + " × " + modeId, () -> runs(m, mode)));
            }
        }
        assertThat(tests).hasSizeGreaterThanOrEqualTo(20);
        return tests.stream();
    }

    private String base() {
        return "http://127.0.0.1:" + port;
    }

    private void runs(JsonNode model, JsonNode mode) {
        String modeId = mode.get("id").asString();
        ObjectNode req = F.objectNode();
        req.put("model", model.get("id").asString());
        req.put("mode", modeId);
        req.put("prompt", "a lighthouse at dusk, " + modeId);
        ObjectNode params = req.putObject("params");
        for (JsonNode p : model.get("params")) {
            if (!appliesTo(p, modeId) || p.path("locked").asBoolean(false)) continue;
            String name = p.get("name").asString();
            String type = p.path("type").asString();
            switch (name) {
                // The smallest allowed media keep the test fast.
                case "width", "height", "num_frames" -> {
                    if (p.hasNonNull("min")) params.put(name, Math.max(p.get("min").asInt(), name.equals("num_frames") ? 0 : 64));
                }
                case "workflow" -> params.set(name, workflow(mode));
                default -> {
                    if (p.path("required").asBoolean(false) && !p.hasNonNull("default")) {
                        if (p.hasNonNull("enum")) params.set(name, p.get("enum").get(0));
                        else if (type.equals("integer") || type.equals("number")) params.put(name, p.path("min").asInt(1));
                        else if (type.equals("boolean")) params.put(name, false);
                        else params.put(name, "x");
                    }
                }
            }
        }
        ObjectNode images = F.objectNode();
        for (JsonNode img : mode.path("images")) {
            String name = img.get("name").asString();
            int min = img.path("min").asInt(0);
            if (name.equals("*")) {
                images.putArray("input.png").add(dataUri(96, 64, Color.ORANGE));
            } else if (min > 0) {
                ArrayNode list = images.putArray(name);
                for (int i = 0; i < min; i++) list.add(dataUri(96 + 8 * i, 64, i % 2 == 0 ? Color.BLUE : Color.GREEN));
            }
        }
        if (!images.isEmpty()) req.set("images", images);

        Http.Answer a = http.post("/v1/jobs", req.toString());
        assertThat(a.status()).as(req + " → " + a).isEqualTo(202);
        JsonNode job = awaitJob(a.json().get("id").asString(), Duration.ofSeconds(90));
        assertThat(job.get("status").asString()).as(job.toString()).isEqualTo("succeeded");
        assertThat(job.get("outputs")).as(job.toString()).isNotEmpty();
        boolean video = model.get("kind").asString().equals("video");
        for (JsonNode out : job.get("outputs")) {
            String mime = out.get("mime").asString();
            if (video) {
                assertThat(mime).as(job.toString()).matches("video/.+|image/gif");
                assertThat(out.path("frames").asInt()).as("frames of " + out).isPositive();
            } else {
                assertThat(mime).as(job.toString()).startsWith("image/");
            }
            Http.Answer bytes = http.get(out.get("url").asString());
            assertThat(bytes.status()).isEqualTo(200);
            assertThat(bytes.body().length).isEqualTo(out.get("size").asLong());
            assertThat(http.get(out.get("thumbnail_url").asString()).status()).isEqualTo(200);
        }
    }

    private static boolean appliesTo(JsonNode param, String mode) {
        JsonNode modes = param.get("modes");
        if (modes == null || modes.isNull() || modes.isEmpty()) return true;
        for (JsonNode m : modes) if (m.asString().equals(mode)) return true;
        return false;
    }

    /** A raw API-format graph, as seed 001 sends it: load the named input image, scale it, save it. */
    private static ObjectNode workflow(JsonNode mode) {
        ObjectNode g = F.objectNode();
        ObjectNode load = g.putObject("1");
        load.put("class_type", "LoadImage");
        load.putObject("inputs").put("image", "input.png");
        ObjectNode scale = g.putObject("2");
        scale.put("class_type", "ImageScale");
        ObjectNode si = scale.putObject("inputs");
        si.set("image", F.arrayNode().add("1").add(0));
        si.put("upscale_method", "lanczos").put("width", 128).put("height", 96).put("crop", "disabled");
        ObjectNode save = g.putObject("3");
        save.put("class_type", "SaveImage");
        ObjectNode sv = save.putObject("inputs");
        sv.set("images", F.arrayNode().add("2").add(0));
        sv.put("filename_prefix", "kiln");
        return g;
    }

    private static String dataUri(int w, int h, Color c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.WHITE);
        g.fillOval(w / 4, h / 4, w / 2, h / 2);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
    }
}

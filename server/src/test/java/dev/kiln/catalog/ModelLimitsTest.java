package dev.kiln.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import dev.kiln.testing.TestCatalog;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The catalogue's rules for what a model itself refuses: a pattern for string parameters the
 * model parses (BiRefNet's {@code resolution}), limits on width × height (Seedream v4.5), and
 * defaults that only some modes get (an edit keeps its input's size unless asked).
 */
class ModelLimitsTest {
    final Catalog shipped = TestCatalog.shipped();
    final Model seedream = shipped.find("seedream-v4.5").orElseThrow();
    final Model birefnet = shipped.find("birefnet").orElseThrow();

    private Map<String, Object> resolve(Model m, String mode, String params, List<FieldError> errors) {
        Map<String, Object> p = ParamResolver.resolve(m, mode, Json.parse(params), "params", errors);
        ParamResolver.checkArea(m, p, Map.of(), "params", errors);
        return p;
    }

    @Test
    void seedreamSizesBelowItsMinimumAreRaisedKeepingTheAspectRatioAndRecorded() {
        List<FieldError> errors = new ArrayList<>();
        Map<String, Object> p = resolve(seedream, "txt2img", "{\"width\":1024,\"height\":1024}", errors);
        assertThat(errors).isEmpty();

        List<String> notes = ParamResolver.adjust(seedream, p);
        assertThat(p).containsEntry("width", 1920L).containsEntry("height", 1920L);
        assertThat(notes).singleElement().asString().contains("1024×1024 was raised to 1920×1920").contains("3686400");

        Map<String, Object> wide = resolve(seedream, "txt2img", "{\"width\":2048,\"height\":1024}", errors);
        ParamResolver.adjust(seedream, wide);
        long w = (Long) wide.get("width"), h = (Long) wide.get("height");
        assertThat(w * h).isGreaterThanOrEqualTo(3_686_400L).isLessThan(3_686_400L + w + h);
        assertThat((double) w / h).isCloseTo(2.0, org.assertj.core.data.Offset.offset(0.002));

        Map<String, Object> big = resolve(seedream, "txt2img", "{\"width\":2560,\"height\":1440}", errors);
        assertThat(ParamResolver.adjust(seedream, big)).as("already large enough").isEmpty();
        assertThat(big).containsEntry("width", 2560L).containsEntry("height", 1440L);
    }

    @Test
    void seedreamDefaultsAreLargeEnoughAndAnEditGetsNoSizeUnlessAsked() {
        List<FieldError> errors = new ArrayList<>();
        Map<String, Object> t2i = resolve(seedream, "txt2img", "{}", errors);
        assertThat(t2i).containsEntry("width", 2048L).containsEntry("height", 2048L);
        assertThat(ParamResolver.adjust(seedream, t2i)).isEmpty();

        Map<String, Object> edit = resolve(seedream, "img2img", "{}", errors);
        assertThat(errors).isEmpty();
        assertThat(edit).doesNotContainKeys("width", "height");
        Binding b = seedream.bindings().getFirst();
        Map<String, Object> values = new HashMap<>(edit);
        values.put("prompt", "p");
        assertThat(Templates.render(b.inputFor("img2img"), b.values(values), Map.of(), i -> null).has("size")).isFalse();
        Map<String, Object> asked = new HashMap<>(resolve(seedream, "img2img", "{\"width\":3000,\"height\":2000}", errors));
        asked.put("prompt", "p");
        assertThat(Templates.render(b.inputFor("img2img"), b.values(asked), Map.of(), i -> null).path("size").asString())
                .isEqualTo("3000*2000");
        assertThat(Templates.render(b.inputFor("txt2img"), b.values(asked), Map.of(), i -> null).has("seed")).isFalse();
    }

    @Test
    void seedreamRefusesHalfASizeAndSizesAboveItsMaximum() {
        List<FieldError> errors = new ArrayList<>();
        resolve(seedream, "img2img", "{\"width\":2048}", errors);
        assertThat(errors).singleElement().satisfies(e -> {
            assertThat(e.field()).isEqualTo("params.height");
            assertThat(e.message()).contains("together, or neither");
        });

        Model roomy = CatalogLoaderTest.parse("""
                id: roomy
                kind: image
                modes: [{id: txt2img}]
                params:
                  - {name: w, type: integer, default: 64, min: 16, max: 8192}
                  - {name: h, type: integer, default: 64, min: 16, max: 8192}
                area: {width: w, height: h, min: 4096, max: 16777216}
                bindings: [{provider: sandbox, remote: kiln/x, input: {size: "${w}*${h}"}}]
                """, new ArrayList<>());
        List<FieldError> tooBig = new ArrayList<>();
        Map<String, Object> p = ParamResolver.resolve(roomy, "txt2img", Json.parse("{\"w\":8192,\"h\":4096}"), "params", tooBig);
        ParamResolver.checkArea(roomy, p, Map.of(), "params", tooBig);
        assertThat(tooBig).singleElement().extracting(FieldError::message).asString().contains("at most 16777216");
        List<FieldError> grid = new ArrayList<>();
        ParamResolver.checkArea(roomy, Map.of("w", 64L, "h", 64L), Map.of("w", List.of(64L, 8192L), "h", List.of(4096L)), "params", grid);
        assertThat(grid).as("every combination of a run's grid is checked").hasSize(1);
    }

    @Test
    void seedreamCostsAFlatPricePerImage() {
        assertThat(Rules.evaluate(seedream.cost(), Map.of("width", 1920L, "height", 1920L)))
                .isEqualTo(Rules.evaluate(seedream.cost(), Map.of("width", 4096L, "height", 4096L))).isEqualTo(40.0);
        assertThat(seedream.param("seed")).as("WaveSpeed's Seedream v4.5 takes no seed").isNull();
    }

    @Test
    void birefnetResolutionMustBeWidthByHeightOfAtLeast32OrAPreset() {
        for (String bad : new String[] {"abc", "1024", "1024x", "16x1024", "1024x31", "4096x1024", "1024*1024", " 1024x1024", "1024x1024x3"}) {
            List<FieldError> errors = new ArrayList<>();
            resolve(birefnet, "remove_bg", "{\"resolution\":\"" + bad + "\"}", errors);
            assertThat(errors).as(bad).singleElement().satisfies(e -> {
                assertThat(e.field()).isEqualTo("params.resolution");
                assertThat(e.message()).contains("like 1024x1024, each number between 32 and 2048").contains("\"\"");
            });
        }
        for (String good : new String[] {"", "1024x1024", "2048x2048", "32x32", "1000x700"}) {
            List<FieldError> errors = new ArrayList<>();
            resolve(birefnet, "remove_bg", "{\"resolution\":\"" + good + "\"}", errors);
            assertThat(errors).as(good).isEmpty();
        }
    }

    @Test
    void birefnetResolutionIsRoundedDownToAMultipleOf32AsTheModelDoesAndRecorded() {
        Map<String, Object> p = new HashMap<>(Map.of("resolution", "1000x700"));
        List<String> notes = ParamResolver.adjust(birefnet, p);
        assertThat(p).containsEntry("resolution", "992x672");
        assertThat(notes).singleElement().asString().contains("1000x700 was sent as 992x672");
        Map<String, Object> preset = new HashMap<>(Map.of("resolution", ""));
        assertThat(ParamResolver.adjust(birefnet, preset)).isEmpty();
        assertThat(preset).containsEntry("resolution", "");
    }

    @Test
    void theLoaderChecksPatternsAreasAndModeDefaults() {
        List<String> problems = new ArrayList<>();
        CatalogLoaderTest.parse("""
                id: m
                kind: image
                modes: [{id: a}, {id: b}]
                params:
                  - {name: r, type: integer, pattern: {regex: "(\\\\d+)", example: "1"}}
                  - {name: s, type: string, default: "9x9", pattern: {regex: "([0-9]+)x([0-9]+)", example: "8", min: 32}}
                  - {name: w, type: integer, default: 10, max: 10, default_in: [c]}
                  - {name: h, type: integer, max: 10, default_in: [a]}
                area: {width: w, height: nope, min: 1000, max: 10}
                cost: "#w * 2"
                bindings: [{provider: sandbox, remote: kiln/x, input: {}}]
                """, problems);
        assertThat(String.join("\n", problems))
                .contains("params.r.pattern: only string parameters take a pattern")
                .contains("params.s.pattern.example: '8' does not match the pattern")
                .contains("params.s.default: must be like 8")
                .contains("params.w.default_in: unknown mode 'c'")
                .contains("params.h.default_in: names the modes that get the default, but there is none")
                .contains("area: 'nope' is not an integer parameter")
                .contains("area: area needs 1 <= min <= max");
    }
}

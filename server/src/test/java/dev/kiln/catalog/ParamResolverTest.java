package dev.kiln.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParamResolverTest {
    final Model model = CatalogLoaderTest.parse("""
            id: m
            kind: video
            modes: [{id: t2v}, {id: i2v, images: [{name: reference_image, min: 1, max: 1}]}]
            params:
              - {name: steps, type: integer, default: 8, locked: 8}
              - {name: cfg_scale, type: number, default: 1.0, locked: 1.0}
              - {name: fps, type: integer, default: 16, enum: [8, 16, 24]}
              - {name: num_frames, type: integer, default: 81, min: 16, max: 161}
              - {name: strength, type: number, default: 0.85, min: 0, max: 1, modes: [i2v]}
              - {name: seed, type: integer, default: -1, min: -1, max: 2147483647}
              - {name: tag, type: string, required: true}
            bindings: [{provider: comfyui}]
            """, new ArrayList<>());

    @Test
    void fillsDefaultsAndLockedValues() {
        List<FieldError> errors = new ArrayList<>();
        Map<String, Object> p = ParamResolver.resolve(model, "t2v", Json.parse("{\"tag\":\"x\"}"), "params", errors);
        assertThat(errors).isEmpty();
        assertThat(p).containsEntry("steps", 8L).containsEntry("fps", 16L).containsEntry("num_frames", 81L).doesNotContainKey("strength");
    }

    @Test
    void listsEveryBadFieldOnce() {
        List<FieldError> errors = new ArrayList<>();
        ParamResolver.resolve(model, "t2v", Json.parse("""
                {"steps":20,"cfg_scale":1.0,"fps":30,"num_frames":500,"strength":0.5,"seed":"x","nope":1}"""), "params", errors);
        assertThat(errors).extracting(FieldError::field)
                .containsExactlyInAnyOrder("params.steps", "params.fps", "params.num_frames", "params.strength", "params.seed",
                        "params.nope", "params.tag");
        assertThat(errors).filteredOn(e -> e.field().equals("params.steps")).singleElement()
                .extracting(FieldError::message).asString().contains("locked to 8");
        assertThat(errors).filteredOn(e -> e.field().equals("params.num_frames")).singleElement()
                .extracting(FieldError::message).asString().contains("between 16 and 161");
    }

    @Test
    void acceptsWholeNumbersWrittenAsDecimalsButNotStrings() {
        List<FieldError> errors = new ArrayList<>();
        Map<String, Object> p = ParamResolver.resolve(model, "t2v", Json.parse("{\"num_frames\":32.0,\"tag\":\"x\"}"), "params", errors);
        assertThat(errors).isEmpty();
        assertThat(p.get("num_frames")).isEqualTo(32L);
        ParamResolver.resolve(model, "t2v", Json.parse("{\"num_frames\":32.5,\"fps\":\"16\",\"tag\":\"x\"}"), "params", errors);
        assertThat(errors).extracting(FieldError::field).containsExactlyInAnyOrder("params.num_frames", "params.fps");
    }

    @Test
    void replacesASeedOfMinusOneByARecordedRandomSeed() {
        Map<String, Object> p = new java.util.HashMap<>(Map.of("seed", -1L));
        ParamResolver.randomizeSeed(model, p);
        assertThat(((Number) p.get("seed")).longValue()).isBetween(0L, 2147483647L);
        Map<String, Object> fixed = new java.util.HashMap<>(Map.of("seed", 7L));
        assertThat(ParamResolver.randomizeSeed(model, fixed).get("seed")).isEqualTo(7L);
    }
}

package dev.kiln.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import dev.kiln.testing.TestCatalog;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * WAN-based models (wan-2.2-rapid, anisora-v3.2) take 4k+1 frames and sizes that are multiples of
 * 16: any other value is refused with the nearest allowed ones, never silently changed.
 */
class FrameAndLatentStepTest {
    static Model shipped(String id) throws Exception {
        try (InputStream in = FrameAndLatentStepTest.class.getResourceAsStream("/catalog/" + id + ".yaml")) {
            List<String> problems = new ArrayList<>();
            Model m = CatalogLoader.parse(in, id, problems, TestCatalog.PROVIDERS);
            assertThat(problems).isEmpty();
            return m;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wan-2.2-rapid", "anisora-v3.2"})
    void frameCountsOffTheLatticeAreRefusedNamingTheNearestAllowed(String id) throws Exception {
        Model m = shipped(id);
        List<FieldError> errors = new ArrayList<>();
        ParamResolver.resolve(m, "t2v", Json.parse("{\"num_frames\":80}"), "params", errors);
        assertThat(errors).singleElement().satisfies(e -> {
            assertThat(e.field()).isEqualTo("params.num_frames");
            assertThat(e.message()).contains("4k+1").contains("77 or 81");
        });
        errors.clear();
        ParamResolver.resolve(m, "t2v", Json.parse("{\"num_frames\":161}"), "params", errors);
        ParamResolver.resolve(m, "t2v", Json.parse("{\"num_frames\":17}"), "params", errors);
        assertThat(errors).isEmpty();
        ParamResolver.resolve(m, "t2v", Json.parse("{\"num_frames\":16}"), "params", errors);
        assertThat(errors).isNotEmpty();
    }

    @Test
    void aSizeStepRefusesSizesTheLatentGridDoesNotDivideAndTheCatalogueChecksItsOwnValues() {
        String yaml = """
                id: m
                name: M
                kind: video
                actions: [create]
                modes: [{id: t2v}]
                params:
                  - {name: width, type: integer, default: 832, min: 256, max: 1280, step: {multiple: 16}}
                  - {name: frames, type: integer, default: 80, step: {multiple: 4, offset: 1}}
                bindings: [{provider: comfyui, input: {}}]
                """;
        List<String> problems = new ArrayList<>();
        CatalogLoader.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "m", problems, BindingTargets.of(Map.of("comfyui", false)));
        assertThat(problems).anySatisfy(p -> assertThat(p).contains("params.frames.step").contains("80 is not 4k+1"));
        problems.clear();
        Model m = CatalogLoader.parse(new ByteArrayInputStream(yaml.replace("default: 80", "default: 81").getBytes(StandardCharsets.UTF_8)), "m",
                problems, BindingTargets.of(Map.of("comfyui", false)));
        assertThat(problems).isEmpty();
        List<FieldError> errors = new ArrayList<>();
        ParamResolver.resolve(m, "t2v", Json.parse("{\"width\":840,\"frames\":81}"), "params", errors);
        assertThat(errors).singleElement().satisfies(e -> assertThat(e.message()).contains("a multiple of 16").contains("832 or 848"));
    }
}

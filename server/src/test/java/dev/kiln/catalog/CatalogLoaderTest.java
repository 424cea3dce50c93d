package dev.kiln.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.testing.TestCatalog;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CatalogLoaderTest {

    static Model parse(String yaml, List<String> problems) {
        return CatalogLoader.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test.yaml", problems,
                TestCatalog.PROVIDERS);
    }

    @Test
    void loadsTheShippedCatalogue() {
        Catalog c = TestCatalog.shipped();
        assertThat(c.find("sandbox-image")).isPresent();
        Model s = c.find("seedream-v4.5").orElseThrow();
        assertThat(s.mode("img2img").image("reference").max()).isEqualTo(10);
        assertThat(s.bindings().getFirst().remoteFor("img2img")).isEqualTo("bytedance/seedream-v4.5/edit");
        assertThat(s.param("width").min()).isEqualTo(1024.0);
    }

    @Test
    void reportsEveryProblemOfAFileWithItsField() {
        List<String> problems = new ArrayList<>();
        Model m = parse("""
                id: Bad Id
                kind: audio
                modes: []
                params:
                  - {name: steps, type: integer, default: 99, min: 1, max: 50}
                  - {name: steps, type: integer}
                  - {name: sampler, type: string, enum: [a, b], default: c}
                bindings:
                  - provider: nowhere
                    remote: x
                    input: {steps: "${nope}"}
                extra: 1
                """, problems);
        assertThat(m).isNull();
        assertThat(problems).anyMatch(p -> p.contains("test.yaml: id:"))
                .anyMatch(p -> p.contains("kind: must be one of"))
                .anyMatch(p -> p.contains("modes: must list at least one mode"))
                .anyMatch(p -> p.contains("params.steps.default: must be between 1 and 50"))
                .anyMatch(p -> p.contains("params.steps: duplicate parameter"))
                .anyMatch(p -> p.contains("params.sampler.default: must be one of"))
                .anyMatch(p -> p.contains("bindings[0].provider: unknown provider"))
                .anyMatch(p -> p.contains("extra: unknown field"));
    }

    @Test
    void bindingsAreCheckedAgainstTheProvidersDescriptors() {
        List<String> problems = new ArrayList<>();
        Model m = parse("""
                id: t
                kind: image
                modes: [{id: txt2img}]
                bindings:
                  - {provider: comfyui, input: {"1": {class_type: SaveImage, inputs: {}}}}
                  - {provider: runpod, input: {"1": {class_type: SaveImage, inputs: {}}}}
                  - {provider: replicate, input: {prompt: "${prompt}"}}
                """, problems);
        assertThat(m).isNull();
        assertThat(problems).as("a workflow provider needs no remote model; a hosted one does")
                .containsExactly("test.yaml: bindings[2].remote: no remote model for mode txt2img");
        assertThat(TestCatalog.PROVIDERS.providerIds()).containsExactlyInAnyOrder("sandbox", "wavespeed", "replicate", "fal",
                "runpod", "comfyui");
    }

    @Test
    void refusesPlaceholdersThatNameNothing() {
        List<String> problems = new ArrayList<>();
        parse("""
                id: m
                kind: image
                modes: [{id: txt2img}]
                params: [{name: width, type: integer, default: 512}]
                bindings:
                  - {provider: wavespeed, remote: x, input: {w: "${width}", img: "${images.ref}", h: "${height}"}}
                """, problems);
        assertThat(problems).hasSize(2).allMatch(p -> p.contains("names nothing the model has"));
    }

    @Test
    void refusesARuleThatDoesNotEvaluate() {
        List<String> problems = new ArrayList<>();
        parse("""
                id: m
                kind: image
                modes: [{id: txt2img}]
                params: [{name: width, type: integer, default: 512}]
                cost: "#width * #nothing"
                bindings: [{provider: wavespeed, remote: x}]
                """, problems);
        assertThat(problems).singleElement().asString().contains("cost: expression");
    }

    @Test
    void aUserDirectoryAddsModelsAndReplacesShippedOnes(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("mine.yaml"), """
                id: sandbox-image
                name: My sandbox
                kind: image
                modes: [{id: txt2img}]
                bindings: [{provider: sandbox, remote: kiln/sandbox-image}]
                """);
        Catalog c = CatalogLoader.load(dir.toString(), TestCatalog.PROVIDERS);
        assertThat(c.find("sandbox-image").orElseThrow().name()).isEqualTo("My sandbox");
        assertThat(c.find("seedream-v4.5")).isPresent();
    }

    @Test
    void aBrokenUserFileStopsStartUpWithAClearMessage(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("broken.yaml"), "id: [unclosed");
        assertThatThrownBy(() -> CatalogLoader.load(dir.toString(), TestCatalog.PROVIDERS))
                .isInstanceOf(CatalogLoader.CatalogException.class)
                .hasMessageContaining("broken.yaml: not valid YAML");
    }
}

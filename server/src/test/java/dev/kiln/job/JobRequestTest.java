package dev.kiln.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.catalog.Catalog;
import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import dev.kiln.testing.TestCatalog;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobRequestTest {
    static final Catalog CATALOG = TestCatalog.shipped();

    static List<FieldError> errors(String json, boolean run) {
        List<FieldError> errors = new ArrayList<>();
        JobRequest.parse(Json.parse(json), run, CATALOG, errors);
        return errors;
    }

    static List<String> fields(String json, boolean run) {
        return errors(json, run).stream().map(FieldError::field).toList();
    }

    @Test
    void aGoodRequestResolvesDefaults() {
        List<FieldError> errors = new ArrayList<>();
        JobRequest r = JobRequest.parse(Json.parse("{\"model\":\"sandbox-image\",\"prompt\":\"a cat\"}"), false, CATALOG, errors);
        assertThat(errors).isEmpty();
        assertThat(r.mode()).isEqualTo("txt2img");
        assertThat(r.params()).containsEntry("width", 512L).containsEntry("seed", -1L).doesNotContainKey("strength");
        assertThat(r.jobCount()).isEqualTo(1);
    }

    @Test
    void namesTheModelFieldWhenItIsMissingOrUnknown() {
        assertThat(fields("{\"prompt\":\"a\"}", false)).containsExactly("model");
        assertThat(errors("{\"model\":\"nope\",\"prompt\":\"a\"}", false)).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("unknown model 'nope'").contains("sandbox-image"));
    }

    @Test
    void reportsEveryBadFieldInOnePass() {
        assertThat(fields("""
                {"model":"sandbox-image","prompt":"","colour":"red","priority":99,
                 "params":{"width":10,"output_format":"bmp","strength":0.5},
                 "webhook":{"url":"ftp://x"}}""", false))
                .containsExactlyInAnyOrder("colour", "prompt", "priority", "params.width", "params.output_format",
                        "params.strength", "webhook.url");
    }

    @Test
    void infersTheModeFromTheImagesGiven() {
        List<FieldError> errors = new ArrayList<>();
        JobRequest r = JobRequest.parse(Json.parse("""
                {"model":"seedream-v4.5","prompt":"p","images":{"reference":["https://example.com/a.png"]}}"""), false, CATALOG, errors);
        assertThat(errors).isEmpty();
        assertThat(r.mode()).isEqualTo("img2img");
        assertThat(r.images()).isEqualTo(Map.of("reference", List.of("https://example.com/a.png")));
    }

    @Test
    void checksImageInputsAgainstTheMode() {
        assertThat(errors("{\"model\":\"seedream-v4.5\",\"mode\":\"img2img\",\"prompt\":\"p\"}", false)).singleElement()
                .satisfies(e -> {
                    assertThat(e.field()).isEqualTo("images.reference");
                    assertThat(e.message()).contains("needs 1 to 10 image(s)");
                });
        assertThat(fields("{\"model\":\"seedream-v4.5\",\"mode\":\"txt2img\",\"prompt\":\"p\",\"images\":{\"reference\":[\"https://a/b.png\"]}}", false))
                .containsExactly("images.reference");
        List<String> eleven = new ArrayList<>();
        for (int i = 0; i < 11; i++) eleven.add("\"https://a/" + i + ".png\"");
        assertThat(fields("{\"model\":\"seedream-v4.5\",\"mode\":\"img2img\",\"prompt\":\"p\",\"images\":{\"reference\":" + eleven + "}}", false))
                .containsExactly("images.reference");
        assertThat(fields("{\"model\":\"sandbox-image\",\"mode\":\"img2img\",\"prompt\":\"p\",\"images\":{\"reference\":[\"file:///etc/passwd\"]}}", false))
                .containsExactly("images.reference[0]");
    }

    @Test
    void anUnknownModeListsTheModelsModes() {
        assertThat(errors("{\"model\":\"sandbox-image\",\"mode\":\"t2v\",\"prompt\":\"p\"}", false)).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("txt2img, img2img"));
    }

    @Test
    void expandsRunsAndChecksGridValues() {
        List<FieldError> errors = new ArrayList<>();
        JobRequest r = JobRequest.parse(Json.parse("""
                {"model":"sandbox-image","prompts":["a","b","c"],"count":2,"grid":{"width":[256,512],"output_format":["png","jpeg","webp"]}}"""),
                true, CATALOG, errors);
        assertThat(errors).isEmpty();
        assertThat(r.jobCount()).isEqualTo(3 * 2 * 2 * 3);
        assertThat(fields("{\"model\":\"sandbox-image\",\"prompts\":[\"a\"],\"grid\":{\"width\":[256,4096],\"nope\":[1],\"height\":[]}}", true))
                .containsExactlyInAnyOrder("grid.width[1]", "grid.nope", "grid.height");
        assertThat(fields("{\"model\":\"sandbox-image\",\"prompt\":\"a\",\"prompts\":[\"b\"]}", true)).containsExactly("prompts");
        assertThat(fields("{\"model\":\"sandbox-image\",\"prompts\":[\"a\",\"\"],\"count\":0}", true))
                .containsExactlyInAnyOrder("prompts[1]", "count");
        assertThat(fields("{\"model\":\"sandbox-image\",\"prompt\":\"a\",\"count\":2}", false)).containsExactly("count");
    }
}

package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class BatchPlanTest {
    /** The shape GET /v1/models/{id} answers, as the server writes it. */
    static final Wire.Model MODEL = Wire.JSON.readValue("""
            {"id": "m", "name": "M", "kind": "image", "modes": [{"id": "txt2img", "prompt": "required"}],
             "params": [
               {"name": "steps", "type": "integer", "default": 20, "min": 1, "max": 50},
               {"name": "cfg", "type": "number", "default": 7.5},
               {"name": "hdr", "type": "boolean", "default": false},
               {"name": "sampler", "type": "string", "default": "euler", "enum": ["euler", "dpm"]},
               {"name": "workflow", "type": "object"}]}
            """, Wire.Model.class);

    private static PromptFile.Row row(int line, String prompt, Map<String, Object> params) {
        return new PromptFile.Row(line, prompt, null, params);
    }

    private static BatchPlan.Options options(int count, Map<String, String> params, Map<String, String> grid, int runSize) {
        return new BatchPlan.Options("m", null, count, params, grid, null, Map.of(), runSize);
    }

    @Test
    void textValuesAreTypedByTheSchema() {
        List<String> problems = new ArrayList<>();
        assertThat(BatchPlan.coerce(MODEL, "steps", "30", "w", problems).isIntegralNumber()).isTrue();
        assertThat(BatchPlan.coerce(MODEL, "cfg", "4.5", "w", problems).asDouble()).isEqualTo(4.5);
        assertThat(BatchPlan.coerce(MODEL, "hdr", "TRUE", "w", problems).asBoolean()).isTrue();
        assertThat(BatchPlan.coerce(MODEL, "sampler", "123", "w", problems).isString()).isTrue();
        assertThat(BatchPlan.coerce(MODEL, "workflow", "{\"a\": 1}", "w", problems).get("a").asInt()).isEqualTo(1);
        // Undeclared parameters go as written, numbers and booleans as such, so the server can name them.
        assertThat(BatchPlan.coerce(MODEL, "other", "12", "w", problems).isIntegralNumber()).isTrue();
        assertThat(BatchPlan.coerce(MODEL, "other", "x y", "w", problems).asString()).isEqualTo("x y");
        assertThat(problems).isEmpty();

        BatchPlan.coerce(MODEL, "steps", "3.5", "--param steps=3.5", problems);
        BatchPlan.coerce(MODEL, "cfg", "high", "line 4, cfg=high", problems);
        BatchPlan.coerce(MODEL, "hdr", "yes", "w", problems);
        BatchPlan.coerce(MODEL, "workflow", "{oops", "w", problems);
        assertThat(problems).hasSize(4);
        assertThat(problems.get(0)).isEqualTo("--param steps=3.5: steps is an integer parameter; '3.5' is not an integer");
        assertThat(problems.get(1)).startsWith("line 4, cfg=high: cfg is a number parameter");
        assertThat(problems.get(2)).contains("write true or false");
        assertThat(problems.get(3)).contains("not valid JSON");
    }

    @Test
    void oneRunCarriesPromptsCountGridAndTypedParams() {
        List<BatchPlan.RunSpec> runs = BatchPlan.plan(List.of(row(1, "a", Map.of()), row(3, "b", Map.of())),
                options(2, Map.of("steps", "30"), Map.of("cfg", "1, 2.5"), 1000), MODEL);
        assertThat(runs).hasSize(1);
        JsonNode body = runs.getFirst().body();
        assertThat(body.toString()).isEqualTo("{\"model\":\"m\",\"prompts\":[\"a\",\"b\"],\"params\":{\"steps\":30},\"count\":2,\"grid\":{\"cfg\":[1,2.5]}}");
        assertThat(runs.getFirst().jobs()).isEqualTo(8);
        assertThat(runs.getFirst().jobsPerPrompt()).isEqualTo(4);
        assertThat(runs.getFirst().lines()).containsExactly(1, 3);
    }

    @Test
    void rowsWithTheirOwnValuesGoToTheirOwnRunsInOrderOfFirstAppearance() {
        Map<String, Object> seven = Map.of("steps", "7");
        List<BatchPlan.RunSpec> runs = BatchPlan.plan(List.of(row(1, "a", Map.of()), row(2, "b", seven), row(3, "c", Map.of()),
                new PromptFile.Row(4, "d", "ugly", Map.of()), row(5, "e", seven)), options(1, Map.of("steps", "30"), Map.of(), 1000), MODEL);
        assertThat(runs).extracting(r -> r.body().get("prompts").toString())
                .containsExactly("[\"a\",\"c\"]", "[\"b\",\"e\"]", "[\"d\"]");
        assertThat(runs.get(0).body().get("params").get("steps").asInt()).isEqualTo(30);
        assertThat(runs.get(1).body().get("params").get("steps").asInt()).isEqualTo(7);
        assertThat(runs.get(2).body().get("negative_prompt").asString()).isEqualTo("ugly");
        assertThat(runs.get(1).lines()).containsExactly(2, 5);
    }

    @Test
    void aBatchLargerThanTheRunSizeIsSplitIntoWholePrompts() {
        List<PromptFile.Row> rows = new ArrayList<>();
        for (int i = 1; i <= 7; i++) rows.add(row(i, "p" + i, Map.of()));
        List<BatchPlan.RunSpec> runs = BatchPlan.plan(rows, options(3, Map.of(), Map.of(), 10), MODEL);
        // 3 jobs per prompt, at most 10 per run: 3 prompts (9 jobs) per run.
        assertThat(runs).extracting(BatchPlan.RunSpec::jobs).containsExactly(9, 9, 3);
        assertThat(runs).extracting(r -> r.body().get("prompts").size()).containsExactly(3, 3, 1);
        assertThat(runs.get(2).lines()).containsExactly(7);
    }

    @Test
    void onePromptLargerThanARunIsRefusedNotSplit() {
        assertThatThrownBy(() -> BatchPlan.plan(List.of(row(1, "a", Map.of())), options(5, Map.of(), Map.of("steps", "1,2,3"), 10), MODEL))
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(Exit.USAGE))
                .hasMessageContaining("one prompt expands to 15 jobs (--count 5 × 3 grid cells), more than the 10 jobs one run may hold");
    }

    @Test
    void everyBadValueIsReportedAtOnceWithWhereItCameFrom() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("steps", "many");
        assertThatThrownBy(() -> BatchPlan.plan(List.of(row(4, "a", Map.of("hdr", "maybe"))), options(1, params, Map.of("cfg", "1,x"), 100), MODEL))
                .hasMessageContaining("3 problems")
                .hasMessageContaining("--param steps=many: steps is an integer parameter")
                .hasMessageContaining("--grid cfg=1,x: cfg is a number parameter")
                .hasMessageContaining("line 4, hdr=maybe: hdr is a boolean parameter");
    }

    @Test
    void jsonlValuesAreSentAsTheyAre() {
        JsonNode steps = Wire.JSON.readTree("12");
        List<BatchPlan.RunSpec> runs = BatchPlan.plan(List.of(row(1, "a", Map.of("steps", steps))), options(1, Map.of(), Map.of(), 100), MODEL);
        assertThat(runs.getFirst().body().get("params").toString()).isEqualTo("{\"steps\":12}");
    }
}

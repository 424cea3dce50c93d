package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class PromptFileTest {

    @Test
    void textHasOnePromptPerLineSkippingBlanksAndComments() {
        List<PromptFile.Row> rows = PromptFile.parse("p.txt", "\uFEFFa red fox\r\n\r\n# not a prompt\n  собака в шляпе  \n\ta castle\n", PromptFile.Format.TXT);
        assertThat(rows).extracting(PromptFile.Row::prompt).containsExactly("a red fox", "собака в шляпе", "a castle");
        assertThat(rows).extracting(PromptFile.Row::line).containsExactly(1, 4, 5);
        assertThat(rows).allSatisfy(r -> assertThat(r.params()).isEmpty());
    }

    @Test
    void csvTakesPromptNegativeAndParameterColumnsWithLineNumbers() {
        String csv = """
                Prompt,negative_prompt,seed,width
                a red fox,blurry,7,512

                "a castle, at night",,,768
                "two
                lines",,9,
                """;
        List<PromptFile.Row> rows = PromptFile.parse("p.csv", csv, PromptFile.Format.CSV);
        assertThat(rows).hasSize(3);
        assertThat(rows.get(0)).isEqualTo(new PromptFile.Row(2, "a red fox", "blurry", Map.of("seed", "7", "width", "512")));
        assertThat(rows.get(1)).isEqualTo(new PromptFile.Row(4, "a castle, at night", null, Map.of("width", "768")));
        assertThat(rows.get(2).prompt()).isEqualTo("two\nlines");
        assertThat(rows.get(2).line()).isEqualTo(5);
        assertThat(rows.get(2).params()).containsExactly(Map.entry("seed", "9"));
    }

    @Test
    void csvProblemsAreAllReportedByLine() {
        String csv = "prompt,seed\na fox,1\n,2\nok,3,extra\n";
        assertThatThrownBy(() -> PromptFile.parse("p.csv", csv, PromptFile.Format.CSV))
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(Exit.USAGE))
                .hasMessageContaining("p.csv: 2 problems")
                .hasMessageContaining("line 3: the prompt is empty")
                .hasMessageContaining("line 4: 3 fields, but the header names 2");
    }

    @Test
    void csvWithoutPromptColumnSaysWhatItFound() {
        assertThatThrownBy(() -> PromptFile.parse("p.csv", "text,seed\na,1\n", PromptFile.Format.CSV))
                .hasMessageContaining("the header has no 'prompt' column (it has: text, seed)");
    }

    @Test
    void csvWithUnclosedQuoteIsRefused() {
        assertThatThrownBy(() -> PromptFile.parse("p.csv", "prompt\n\"never closed\n", PromptFile.Format.CSV))
                .hasMessageContaining("not valid CSV");
    }

    @Test
    void jsonlTakesObjectsStringsParamsAndTopLevelParameters() {
        String jsonl = """
                {"prompt": "a fox", "negative_prompt": "blur", "params": {"steps": 20}, "seed": 5}
                "just a string"

                {"prompt": "a cat", "grid_like": [1, 2]}
                """;
        List<PromptFile.Row> rows = PromptFile.parse("p.jsonl", jsonl, PromptFile.Format.JSONL);
        assertThat(rows).extracting(PromptFile.Row::prompt).containsExactly("a fox", "just a string", "a cat");
        assertThat(rows).extracting(PromptFile.Row::line).containsExactly(1, 2, 4);
        assertThat(rows.get(0).negativePrompt()).isEqualTo("blur");
        assertThat(((JsonNode) rows.get(0).params().get("steps")).asInt()).isEqualTo(20);
        assertThat(((JsonNode) rows.get(0).params().get("seed")).asInt()).isEqualTo(5);
        assertThat(((JsonNode) rows.get(2).params().get("grid_like")).isArray()).isTrue();
    }

    @Test
    void jsonlProblemsNameTheirLines() {
        String jsonl = "{\"prompt\": \"ok\"}\n{not json}\n[1]\n{\"prompt\": \"\"}\n{\"prompt\": \"x\", \"seed\": 1, \"params\": {\"seed\": 2}}\n";
        assertThatThrownBy(() -> PromptFile.parse("p.jsonl", jsonl, PromptFile.Format.JSONL))
                .hasMessageContaining("4 problems")
                .hasMessageContaining("line 2: not valid JSON")
                .hasMessageContaining("line 3: must be a JSON object")
                .hasMessageContaining("line 4: \"prompt\" must be a non-empty string")
                .hasMessageContaining("line 5: \"seed\" is given both at the top level and in \"params\"");
    }

    @Test
    void aFileWithoutPromptsIsAUsageError() {
        assertThatThrownBy(() -> PromptFile.parse("p.txt", "# only comments\n\n", PromptFile.Format.TXT))
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(Exit.USAGE))
                .hasMessageContaining("holds no prompts");
    }

    @Test
    void formatComesFromTheName() {
        assertThat(PromptFile.formatOf("a/B.CSV")).isEqualTo(PromptFile.Format.CSV);
        assertThat(PromptFile.formatOf("x.jsonl")).isEqualTo(PromptFile.Format.JSONL);
        assertThat(PromptFile.formatOf("x.ndjson")).isEqualTo(PromptFile.Format.JSONL);
        assertThat(PromptFile.formatOf("prompts")).isEqualTo(PromptFile.Format.TXT);
    }

    @Test
    void readsFilesAndRefusesMissingOrNonUtf8Ones(@TempDir Path dir) throws Exception {
        Path ok = dir.resolve("p.csv");
        Files.writeString(ok, "prompt\na fox\n");
        assertThat(PromptFile.read(ok.toString(), null)).extracting(PromptFile.Row::prompt).containsExactly("a fox");
        assertThatThrownBy(() -> PromptFile.read(dir.resolve("missing.txt").toString(), null)).hasMessageContaining("no such prompts file");
        Path latin1 = dir.resolve("l.txt");
        Files.write(latin1, new byte[] {'c', 'a', 'f', (byte) 0xE9, '\n'});
        assertThatThrownBy(() -> PromptFile.read(latin1.toString(), null)).hasMessageContaining("is not UTF-8");
    }
}

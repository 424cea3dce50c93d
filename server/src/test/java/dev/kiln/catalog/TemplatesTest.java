package dev.kiln.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.provider.InputImage;
import dev.kiln.support.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

class TemplatesTest {
    static InputImage image(String id) {
        return new InputImage(id, "0123456789abcdef0123", "image/png", 3, 1, 1, null, () -> new java.io.ByteArrayInputStream(new byte[3]));
    }

    @Test
    void fillsTypedValuesInterpolatesTextAndDropsWhatIsMissing() {
        JsonNode t = Json.parse("""
                {"prompt":"${prompt}","size":"${width}*${height}","seed":"${seed}","neg":"${negative_prompt}",
                 "nested":{"steps":"${steps}","list":["${seed}","${missing}"]},"fixed":false}""");
        Map<String, Object> values = new java.util.HashMap<>(Map.of("prompt", "a cat", "width", 512L, "height", 768L, "seed", 42L, "steps", 8L));
        values.put("negative_prompt", null);
        JsonNode out = Templates.render(t, values, Map.of(), i -> null);
        assertThat(out.get("prompt").asString()).isEqualTo("a cat");
        assertThat(out.get("size").asString()).isEqualTo("512*768");
        assertThat(out.get("seed").isNumber()).isTrue();
        assertThat(out.get("seed").asLong()).isEqualTo(42);
        assertThat(out.has("neg")).isFalse();
        assertThat(out.get("nested").get("steps").asInt()).isEqualTo(8);
        assertThat(out.get("nested").get("list")).hasSize(1);
        assertThat(out.get("fixed").asBoolean()).isFalse();
    }

    @Test
    void imagesBecomeWhatTheAdapterMapsThemTo() {
        JsonNode t = Json.parse("{\"images\":\"${images.reference}\",\"first\":\"${images.reference[0]}\",\"none\":\"${images.other}\"}");
        JsonNode out = Templates.render(t, Map.of(), Map.of("reference", List.of(image("a1"), image("a2"))),
                i -> JsonNodeFactory.instance.stringNode("https://up/" + i.assetId()));
        assertThat(out.get("images")).extracting(JsonNode::asString).containsExactly("https://up/a1", "https://up/a2");
        assertThat(out.get("first").asString()).isEqualTo("https://up/a1");
        assertThat(out.has("none")).isFalse();
    }

    @Test
    void listsPlaceholdersForLoadTimeChecks() {
        assertThat(Templates.placeholders(Json.parse("{\"a\":\"${x}-${y}\",\"b\":[\"${images.r[1]}\"]}")))
                .containsExactly("x", "y", "images.r[1]");
    }
}

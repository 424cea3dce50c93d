package dev.kiln.support;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A plain JSON mapper for data Kiln stores or sends as-is (database TEXT columns, provider
 * payloads): it keeps field names exactly as written, unlike the API mapper (snake_case records).
 */
public final class Json {
    public static final JsonMapper MAPPER = JsonMapper.builder().build();

    private Json() {}

    public static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }

    public static JsonNode parse(String text) {
        return text == null || text.isEmpty() ? null : MAPPER.readTree(text);
    }

    public static String write(Object value) {
        return value == null ? null : MAPPER.writeValueAsString(value);
    }

    public static JsonNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }
}

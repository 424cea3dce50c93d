package dev.kiln.provider.wavespeed;

import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Tells whether a prediction listed by WaveSpeed was made from a given request body, to find the
 * task behind an ambiguous submit. Input images cannot be compared (each attempt uploads them to a
 * new URL), so the expected body is rendered with a wildcard in their place.
 */
final class WaveSpeedInputs {
    /** Stands for "any uploaded image URL"; cannot occur in a real request (NUL byte). */
    static final JsonNode ANY_IMAGE = JsonNodeFactory.instance.stringNode("\u0000kiln:any-image");

    private WaveSpeedInputs() {}

    /**
     * Whether {@code actual} (a prediction's {@code input}) holds every field of {@code wanted}
     * with an equal value. Fields only in {@code actual} are ignored, as the service may add its
     * defaults; numbers compare by value (5 = 5.0); arrays must have the same length.
     */
    static boolean matches(JsonNode wanted, JsonNode actual) {
        if (actual == null || actual.isMissingNode()) return false;
        if (wanted == ANY_IMAGE || ANY_IMAGE.equals(wanted)) return actual.isString();
        if (wanted.isObject()) {
            if (!actual.isObject()) return false;
            for (Map.Entry<String, JsonNode> e : wanted.properties()) {
                if (!matches(e.getValue(), actual.get(e.getKey()))) return false;
            }
            return true;
        }
        if (wanted.isArray()) {
            if (!actual.isArray() || actual.size() != wanted.size()) return false;
            for (int i = 0; i < wanted.size(); i++) if (!matches(wanted.get(i), actual.get(i))) return false;
            return true;
        }
        if (wanted.isNumber() && actual.isNumber()) return wanted.decimalValue().compareTo(actual.decimalValue()) == 0;
        return wanted.equals(actual);
    }
}

package dev.kiln.compat.vibewave;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Vibewave's WorkflowInput ({@code prompt}, {@code negative_prompt}, {@code width}, {@code height},
 * {@code seed}, {@code steps}), and the Qwen endpoints' {@code cfg_scale} and {@code preset}:
 * their shapes checked here (400 naming the field), their values by the catalogue.
 *
 * @param params the numbers given, by the model's parameter names
 */
record WorkflowInput(String prompt, String negativePrompt, Map<String, Object> params, String preset) {
    static final List<String> NUMBERS = List.of("width", "height", "seed", "steps");
    static final Set<String> FIELDS = Set.of("prompt", "negative_prompt", "width", "height", "seed", "steps");
    static final String INVALID = "Invalid workflow input parameters";

    /** Reads one input object; {@code extra} names the other fields this route accepts (checked by the caller). */
    static WorkflowInput parse(JsonNode n, Set<String> extra, boolean promptRequired) {
        if (n == null || !n.isObject()) throw VibewaveException.badRequest(INVALID + ": the body must be a JSON object");
        for (String f : n.propertyNames()) {
            if (!FIELDS.contains(f) && !extra.contains(f) && !f.equals("cfg_scale") && !f.equals("preset")) {
                throw VibewaveException.badRequest(INVALID + ": unknown field '" + f + "'");
            }
        }
        String prompt = text(n, "prompt");
        if (promptRequired && (prompt == null || prompt.isBlank())) throw VibewaveException.badRequest(INVALID + ": prompt is required");
        Map<String, Object> params = new LinkedHashMap<>();
        for (String f : NUMBERS) {
            JsonNode v = n.get(f);
            if (v == null || v.isNull()) continue;
            if (!v.isIntegralNumber() || !v.canConvertToLong()) throw VibewaveException.badRequest(INVALID + ": " + f + " must be an integer");
            params.put(f, v.longValue());
        }
        JsonNode cfg = n.get("cfg_scale");
        if (cfg != null && !cfg.isNull()) {
            if (!cfg.isNumber()) throw VibewaveException.badRequest(INVALID + ": cfg_scale must be a number");
            params.put("cfg_scale", cfg.doubleValue());
        }
        return new WorkflowInput(prompt, text(n, "negative_prompt"), params, text(n, "preset"));
    }

    private static String text(JsonNode n, String f) {
        JsonNode v = n.get(f);
        if (v == null || v.isNull()) return null;
        if (!v.isString()) throw VibewaveException.badRequest(INVALID + ": " + f + " must be a string");
        return v.asString();
    }

    /** The same input for another prompt (a batch). */
    WorkflowInput withPrompt(String p) {
        return new WorkflowInput(p, negativePrompt, params, preset);
    }
}

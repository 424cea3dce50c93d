package dev.kiln.catalog;

import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Where a model runs: a provider, its remote model name and the input template that turns a
 * job into the provider's request ({@code ${param}} placeholders, see {@link Templates}). A mode
 * may override the remote name and add or replace input fields.
 *
 * @param options provider-specific settings of the binding, or null
 * @param derive values computed from the parameters for this provider, in order: name → a
 *     Spring expression over {@code #param} (e.g. a sampler name mapped to ComfyUI's), usable in
 *     the templates like parameters
 */
public record Binding(String provider, String remote, JsonNode input, Map<String, ModeOverride> modes, JsonNode options,
                      Map<String, String> derive) {

    public Binding {
        modes = modes == null ? Map.of() : Map.copyOf(modes);
        derive = derive == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(derive));
    }

    /** The template values: the job's values plus this binding's derived ones. */
    public Map<String, Object> values(Map<String, Object> jobValues) {
        if (derive.isEmpty()) return jobValues;
        Map<String, Object> out = new java.util.LinkedHashMap<>(jobValues);
        derive.forEach((name, expr) -> out.put(name, Rules.value(expr, out)));
        return out;
    }

    /** A mode's changes to the binding. */
    public record ModeOverride(String remote, JsonNode input, JsonNode options) {}

    public String remoteFor(String mode) {
        ModeOverride o = modes.get(mode);
        return o != null && o.remote() != null ? o.remote() : remote;
    }

    /** The input template for a mode: the base fields, then the mode's own over them. */
    public JsonNode inputFor(String mode) {
        ModeOverride o = modes.get(mode);
        // A template that is a single placeholder (e.g. "${workflow}") is used whole.
        if (input != null && !input.isObject() && (o == null || o.input() == null)) return input;
        ObjectNode merged = input == null || !input.isObject() ? dev.kiln.support.Json.object() : ((ObjectNode) input).deepCopy();
        if (o != null && o.input() != null && o.input().isObject()) {
            o.input().properties().forEach(e -> merged.set(e.getKey(), e.getValue().deepCopy()));
        }
        return merged;
    }

    public JsonNode optionsFor(String mode) {
        ModeOverride o = modes.get(mode);
        return o != null && o.options() != null ? o.options() : options;
    }
}

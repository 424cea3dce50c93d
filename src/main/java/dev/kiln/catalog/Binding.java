package dev.kiln.catalog;

import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Where a model runs: a provider, its remote model name and the input template that turns a
 * job into the provider's request ({@code ${param}} placeholders, see {@link Templates}). A mode
 * may override the remote name and add or replace input fields.
 *
 * @param options provider-specific settings of the binding (e.g. a ComfyUI workflow), or null
 */
public record Binding(String provider, String remote, JsonNode input, Map<String, ModeOverride> modes, JsonNode options) {

    /** The protocols Kiln speaks. {@code sandbox} is the built-in emulator, for demo models. */
    public static final Set<String> PROVIDERS = Set.of("sandbox", "wavespeed", "replicate", "fal", "runpod", "comfyui");

    public Binding {
        modes = modes == null ? Map.of() : Map.copyOf(modes);
    }

    /** A mode's changes to the binding. */
    public record ModeOverride(String remote, JsonNode input, JsonNode options) {}

    public String remoteFor(String mode) {
        ModeOverride o = modes.get(mode);
        return o != null && o.remote() != null ? o.remote() : remote;
    }

    /** The input template for a mode: the base fields, then the mode's own over them. */
    public JsonNode inputFor(String mode) {
        ObjectNode merged = input == null || !input.isObject() ? dev.kiln.support.Json.object() : ((ObjectNode) input).deepCopy();
        ModeOverride o = modes.get(mode);
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

package dev.kiln.catalog;

import java.time.Duration;
import java.util.List;

/**
 * A catalogue entry. Immutable; loaded from data files at start-up.
 *
 * @param timeout the model's own job deadline, or null for {@code KILN_JOB_TIMEOUT}
 * @param bindings where it runs, in order of preference
 * @param presets named sets of parameter values a client may start from
 * @param examples example prompts
 * @param area limits on width × height, or null
 */
public record Model(
        String id, String name, String kind, String description, List<String> actions,
        List<ModeSpec> modes, List<ParamSpec> params, Rule cost, Rule eta, Duration timeout,
        List<Binding> bindings, java.util.Map<String, Preset> presets, List<String> examples, String source,
        AreaRule area) {

    public Model {
        actions = List.copyOf(actions);
        modes = List.copyOf(modes);
        params = List.copyOf(params);
        bindings = List.copyOf(bindings);
        presets = presets == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(presets));
        examples = examples == null ? List.of() : List.copyOf(examples);
    }

    /** A named set of parameter values, already checked against the schema. */
    public record Preset(String help, java.util.Map<String, Object> params) {}

    public ModeSpec mode(String id) {
        return modes.stream().filter(m -> m.id().equals(id)).findFirst().orElse(null);
    }

    public ParamSpec param(String name) {
        return params.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
    }

    public ModeSpec defaultMode() {
        return modes.getFirst();
    }

    /** True when this model only exists to exercise the sandbox. */
    public boolean sandboxOnly() {
        return bindings.stream().allMatch(b -> b.provider().equals("sandbox"));
    }
}

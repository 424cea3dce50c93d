package dev.kiln.catalog;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One parameter of a model.
 *
 * @param locked a value the parameter must have (any other is refused); null when free
 * @param modes the modes it applies to; empty means every mode
 * @param required whether a request must give it (a default then makes no sense)
 * @param pattern the form a string value must have (with {@code enum} values as presets), or null
 * @param defaultIn the modes whose requests get the default; empty means every mode. In the others
 *     the parameter stays unset unless given (an edit that keeps its input's size unless asked)
 */
public record ParamSpec(
        String name, ParamType type, Object defaultValue, Double min, Double max,
        List<Object> enumValues, Object locked, boolean required, List<String> modes, String help,
        ParamPattern pattern, List<String> defaultIn) {

    public ParamSpec {
        enumValues = enumValues == null ? List.of() : List.copyOf(enumValues);
        modes = modes == null ? List.of() : List.copyOf(modes);
        defaultIn = defaultIn == null ? List.of() : List.copyOf(defaultIn);
    }

    public ParamSpec(String name, ParamType type, Object defaultValue, Double min, Double max,
                     List<Object> enumValues, Object locked, boolean required, List<String> modes, String help) {
        this(name, type, defaultValue, min, max, enumValues, locked, required, modes, help, null, List.of());
    }

    public boolean appliesTo(String mode) {
        return modes.isEmpty() || modes.contains(mode);
    }

    /** The default a request in this mode gets, or null. */
    public Object defaultFor(String mode) {
        return defaultIn.isEmpty() || defaultIn.contains(mode) ? defaultValue : null;
    }

    @JsonProperty("default")
    public Object defaultValue() { return defaultValue; }

    @JsonProperty("enum")
    public List<Object> enumValues() { return enumValues; }
}

package dev.kiln.catalog;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One parameter of a model.
 *
 * @param locked a value the parameter must have (any other is refused); null when free
 * @param modes the modes it applies to; empty means every mode
 * @param required whether a request must give it (a default then makes no sense)
 */
public record ParamSpec(
        String name, ParamType type, Object defaultValue, Double min, Double max,
        List<Object> enumValues, Object locked, boolean required, List<String> modes, String help) {

    public ParamSpec {
        enumValues = enumValues == null ? List.of() : List.copyOf(enumValues);
        modes = modes == null ? List.of() : List.copyOf(modes);
    }

    public boolean appliesTo(String mode) {
        return modes.isEmpty() || modes.contains(mode);
    }

    @JsonProperty("default")
    public Object defaultValue() { return defaultValue; }

    @JsonProperty("enum")
    public List<Object> enumValues() { return enumValues; }
}

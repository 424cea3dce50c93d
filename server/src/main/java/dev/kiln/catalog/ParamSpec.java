package dev.kiln.catalog;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One parameter of a model.
 *
 * @param locked a value the parameter must have (any other is refused); null when free
 * @param modes the modes it applies to; empty means every mode
 * @param required whether a request must give it (a default then makes no sense)
 * @param step for integers, the lattice of allowed values (e.g. WAN's 4k+1 frame counts), or null
 * @param pattern the form a string value must have (with {@code enum} values as presets), or null
 * @param defaultIn the modes whose requests get the default; empty means every mode. In the others
 *     the parameter stays unset unless given (an edit that keeps its input's size unless asked)
 */
public record ParamSpec(
        String name, ParamType type, Object defaultValue, Double min, Double max,
        List<Object> enumValues, Object locked, boolean required, List<String> modes, String help,
        Step step, ParamPattern pattern, List<String> defaultIn) {

    public ParamSpec {
        enumValues = enumValues == null ? List.of() : List.copyOf(enumValues);
        modes = modes == null ? List.of() : List.copyOf(modes);
        defaultIn = defaultIn == null ? List.of() : List.copyOf(defaultIn);
    }

    public ParamSpec(String name, ParamType type, Object defaultValue, Double min, Double max,
                     List<Object> enumValues, Object locked, boolean required, List<String> modes, String help) {
        this(name, type, defaultValue, min, max, enumValues, locked, required, modes, help, null, null, List.of());
    }

    /**
     * Allowed integers are {@code multiple × k + offset}: a video model's frame count (WAN: 4k+1,
     * its VAE packs 4 frames per latent frame after the first) or a size its latent grid divides
     * (multiples of 16 or 8). A value off the lattice is refused, naming the nearest allowed ones:
     * Kiln never changes a number the client chose.
     */
    public record Step(int multiple, int offset) {
        public Step {
            if (multiple < 2 || offset < 0 || offset >= multiple) throw new IllegalArgumentException("step: multiple >= 2, 0 <= offset < multiple");
        }

        public boolean allows(long v) {
            return Math.floorMod(v - offset, multiple) == 0;
        }

        /** The allowed value at or below {@code v}. */
        public long below(long v) {
            return v - Math.floorMod(v - offset, multiple);
        }

        public String describe() {
            return offset == 0 ? "a multiple of " + multiple : multiple + "k+" + offset;
        }
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

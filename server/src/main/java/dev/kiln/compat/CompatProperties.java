package dev.kiln.compat;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.springframework.core.env.Environment;

/**
 * Which seed-compatible APIs Kiln serves ({@code KILN_COMPAT}): {@code all} (the default),
 * {@code none}, or a comma-separated list of façade ids such as {@code 000,003}. An unknown id
 * stops Kiln at start with the list of known ones, so a typo never silently switches a façade off.
 */
public record CompatProperties(Set<String> enabled) {
    /** Every façade Kiln has, by id: the seed system whose API it speaks. */
    public static final List<String> KNOWN = List.of("000", "001", "002", "003", "004");
    static final String PROPERTY = "kiln.compat";

    public CompatProperties {
        enabled = Set.copyOf(enabled);
    }

    public boolean on(String id) {
        return enabled.contains(id);
    }

    /** Reads {@code kiln.compat} ({@code KILN_COMPAT}) from the environment. */
    public static CompatProperties from(Environment env) {
        return parse(env.getProperty(PROPERTY, "all"));
    }

    static CompatProperties parse(String value) {
        String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
        if (v.isEmpty() || v.equals("all")) return new CompatProperties(new LinkedHashSet<>(KNOWN));
        if (v.equals("none")) return new CompatProperties(Set.of());
        Set<String> ids = new LinkedHashSet<>();
        for (String part : v.split(",")) {
            String id = part.strip();
            if (id.isEmpty()) continue;
            if (!KNOWN.contains(id)) {
                throw new IllegalStateException("KILN_COMPAT lists '" + id + "', which is not a façade Kiln has; use all, none, or ids from "
                        + String.join(",", KNOWN));
            }
            ids.add(id);
        }
        return new CompatProperties(ids);
    }
}

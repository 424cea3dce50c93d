package dev.kiln.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The form a string parameter must have, for values a model parses itself (BiRefNet's
 * {@code resolution}, "WIDTHxHEIGHT"). A value matches when the whole of it matches {@code regex}
 * and every number the regex captures lies within {@code min}..{@code max}; the parameter's
 * {@code enum} values (presets) are accepted as they are besides.
 *
 * @param regex a Java regular expression for the whole value, capturing each number to check
 * @param example a value to show in error messages
 * @param floorTo when set, each captured number is rounded down to a multiple of it before the
 *     job is sent, as the model itself does, so the job's parameters show what the model uses
 */
public record ParamPattern(String regex, String example, Double min, Double max, Integer floorTo) {

    public ParamPattern {
        Pattern.compile(regex); // fails at load time, not per request
        if (floorTo != null && floorTo < 1) throw new IllegalArgumentException("floor_to must be at least 1");
    }

    /** The captured numbers of a matching value, or null when it does not match (or captures a non-number). */
    List<Long> numbers(String value) {
        Matcher m = compiled().matcher(value);
        if (!m.matches()) return null;
        List<Long> out = new ArrayList<>();
        for (int g = 1; g <= m.groupCount(); g++) {
            if (m.group(g) == null) continue;
            try {
                out.add(Long.parseLong(m.group(g)));
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return out;
    }

    /** Whether every captured number is within the bounds. */
    boolean inBounds(List<Long> numbers) {
        return numbers.stream().allMatch(n -> (min == null || n >= min) && (max == null || n <= max));
    }

    /** The value with each captured number rounded down to a multiple of {@code floorTo} (unchanged without it). */
    String floored(String value) {
        if (floorTo == null) return value;
        Matcher m = compiled().matcher(value);
        if (!m.matches()) return value;
        StringBuilder sb = new StringBuilder(value);
        for (int g = m.groupCount(); g >= 1; g--) {
            if (m.group(g) == null) continue;
            long n = Long.parseLong(m.group(g));
            sb.replace(m.start(g), m.end(g), Long.toString(n / floorTo * floorTo));
        }
        return sb.toString();
    }

    /** How to say what is allowed, e.g. "WIDTHxHEIGHT like 1024x1024, each number between 32 and 2048". */
    String describe() {
        String bounds = min != null && max != null ? ", each number between " + num(min) + " and " + num(max)
                : min != null ? ", each number at least " + num(min) : max != null ? ", each number at most " + num(max) : "";
        return "like " + example + bounds;
    }

    private Pattern compiled() {
        return Pattern.compile(regex);
    }

    private static String num(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}

package dev.kiln.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one reading of a configured duration (environment variables, catalogue files): a number
 * with a unit, decimals allowed ({@code 500ms}, {@code 0.5s}, {@code 1.5m}, {@code 2h},
 * {@code 1d}; a bare number is milliseconds, as in Spring), or ISO-8601 ({@code PT0.5S}).
 * Spring's own reading refuses {@code 0.5s}, which stopped Kiln at start.
 */
public final class Durations {
    /** What the error message offers, so an operator can fix the value without reading code. */
    public static final String FORMS = "a number with a unit (500ms, 0.5s, 1.5m, 2h, 1d; a bare number is milliseconds) "
            + "or ISO-8601 (PT0.5S)";

    private static final Pattern SIMPLE = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)\\s*(ns|us|ms|s|m|h|d)?");
    private static final BigDecimal MAX_SECONDS = BigDecimal.valueOf(Long.MAX_VALUE);

    private Durations() {}

    /**
     * @throws IllegalArgumentException naming the value and the forms that work, for anything else
     *     (negative durations included)
     */
    public static Duration parse(String text) {
        String t = text == null ? "" : text.strip();
        if (t.isEmpty()) throw invalid(text);
        Duration d;
        if (t.charAt(0) == 'P' || t.charAt(0) == 'p' || t.startsWith("-P") || t.startsWith("-p")) {
            try {
                d = Duration.parse(t);
            } catch (DateTimeParseException e) {
                throw invalid(text);
            }
        } else {
            Matcher m = SIMPLE.matcher(t.toLowerCase(Locale.ROOT));
            if (!m.matches()) throw invalid(text);
            BigDecimal seconds = new BigDecimal(m.group(1)).multiply(secondsPer(m.group(2) == null ? "ms" : m.group(2)));
            if (seconds.compareTo(MAX_SECONDS) > 0) throw invalid(text);
            BigDecimal whole = seconds.setScale(0, java.math.RoundingMode.DOWN);
            long nanos = seconds.subtract(whole).movePointRight(9).setScale(0, java.math.RoundingMode.HALF_UP).longValue();
            d = Duration.ofSeconds(whole.longValueExact(), nanos);
        }
        if (d.isNegative()) throw new IllegalArgumentException("'" + text + "' is a negative duration; durations must be 0 or more");
        return d;
    }

    private static BigDecimal secondsPer(String unit) {
        return switch (unit) {
            case "ns" -> new BigDecimal("0.000000001");
            case "us" -> new BigDecimal("0.000001");
            case "ms" -> new BigDecimal("0.001");
            case "s" -> BigDecimal.ONE;
            case "m" -> BigDecimal.valueOf(60);
            case "h" -> BigDecimal.valueOf(3600);
            case "d" -> BigDecimal.valueOf(86_400);
            default -> throw new IllegalStateException(unit);
        };
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("'" + text + "' is not a duration; write " + FORMS);
    }
}

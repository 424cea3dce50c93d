package dev.kiln.emulator.comfy;

import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * How the Python of ComfyUI's validation writes and converts the JSON values of a prompt, so that
 * the emulator's error texts read as ComfyUI's do: {@code str()}, {@code repr()}, a list's
 * {@code str()}, and the errors {@code int()} and {@code float()} raise.
 */
final class Py {
    private Py() {}

    /** {@code str(value)} of a JSON value as Python holds it (string, int, float, bool, None, dict). */
    static String str(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) return "None";
        if (v.isString()) return v.asString();
        return repr(v);
    }

    /** {@code repr(value)}: strings quoted as Python quotes them. */
    static String repr(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) return "None";
        if (v.isString()) return quote(v.asString());
        if (v.isBoolean()) return v.asBoolean() ? "True" : "False";
        if (v.isIntegralNumber()) return v.bigIntegerValue().toString();
        if (v.isNumber()) return number(v.asDouble(), false);
        if (v.isArray()) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < v.size(); i++) sb.append(i == 0 ? "" : ", ").append(repr(v.get(i)));
            return sb.append(']').toString();
        }
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            sb.append(first ? "" : ", ").append(quote(e.getKey())).append(": ").append(repr(e.getValue()));
            first = false;
        }
        return sb.append('}').toString();
    }

    /** {@code str(list_of_strings)}: {@code ['a.safetensors', 'b.safetensors']}. */
    static String list(List<String> items) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < items.size(); i++) sb.append(i == 0 ? "" : ", ").append(quote(items.get(i)));
        return sb.append(']').toString();
    }

    /** A number as Python prints an int ({@code 5}) or a float ({@code 5.0}, {@code 0.25}). */
    static String number(double d, boolean integral) {
        if (integral) return Double.isFinite(d) && Math.abs(d) < 9.2e18 ? Long.toString((long) d) : new java.math.BigDecimal(d).toBigInteger().toString();
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == Math.rint(d) && Math.abs(d) < 1e16) return (long) d + ".0";
        return Double.toString(d).replace("E", "e");
    }

    /** The message {@code int(v)} or {@code float(v)} raises, or null when the conversion succeeds. */
    static String conversionError(JsonNode v, boolean integral) {
        String fn = integral ? "int" : "float";
        if (v == null || v.isNull() || v.isMissingNode()) return typeError(fn, "NoneType");
        if (v.isNumber() || v.isBoolean()) return null;
        if (v.isObject()) return typeError(fn, "dict");
        if (!v.isString()) return typeError(fn, "list");
        String s = v.asString().strip();
        if (integral) {
            if (s.replace("_", "").matches("[+-]?\\d+") && !s.startsWith("_") && !s.endsWith("_") && !s.contains("__")) return null;
            return "invalid literal for int() with base 10: " + quote(v.asString());
        }
        if (parseFloat(s) != null) return null;
        return "could not convert string to float: " + quote(v.asString());
    }

    /** The number {@code int(v)} (truncated) or {@code float(v)} gives; only after {@link #conversionError} said null. */
    static double toNumber(JsonNode v, boolean integral) {
        double d;
        if (v.isBoolean()) d = v.asBoolean() ? 1 : 0;
        else if (v.isNumber()) d = v.asDouble();
        else d = integral ? Double.parseDouble(v.asString().strip().replace("_", "")) : parseFloat(v.asString().strip());
        return integral ? (d < 0 ? Math.ceil(d) : Math.floor(d)) : d;
    }

    private static Double parseFloat(String s) {
        String t = s.toLowerCase(java.util.Locale.ROOT);
        if (t.matches("[+-]?(inf|infinity)")) return t.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        if (t.matches("[+-]?nan")) return Double.NaN;
        if (!t.matches("[+-]?(\\d[\\d_]*\\.?[\\d_]*|\\.\\d[\\d_]*)(e[+-]?\\d+)?")) return null;
        try {
            return Double.parseDouble(t.replace("_", ""));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String typeError(String fn, String type) {
        return fn.equals("int") ? "int() argument must be a string, a bytes-like object or a real number, not '" + type + "'"
                : "float() argument must be a string or a real number, not '" + type + "'";
    }

    /** Python's repr of a string: single quotes unless it holds one and no double quote. */
    static String quote(String s) {
        boolean useDouble = s.contains("'") && !s.contains("\"");
        char q = useDouble ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(q);
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == q) sb.append('\\');
                    sb.append(c);
                }
            }
        }
        return sb.append(q).toString();
    }
}

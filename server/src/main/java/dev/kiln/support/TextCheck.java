package dev.kiln.support;

/**
 * Text Kiln refuses anywhere a client can put a string (JSON bodies, query parameters): NUL, which
 * PostgreSQL cannot store and C-based tools truncate at, and unpaired UTF-16 surrogates, which are
 * not text at all and come out as '?' or break whatever writes them as UTF-8 next.
 */
public final class TextCheck {
    private TextCheck() {}

    /** Why this text is refused, or null if it is fine. */
    public static String problem(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0) return "contains a NUL character (U+0000), which is not allowed";
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return unpaired(c);
            }
            if (Character.isLowSurrogate(c)) return unpaired(c);
        }
        return null;
    }

    private static String unpaired(char c) {
        return String.format("contains an unpaired UTF-16 surrogate (\\u%04X), which is not text", (int) c);
    }
}

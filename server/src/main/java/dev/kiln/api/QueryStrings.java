package dev.kiln.api;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import dev.kiln.support.TextCheck;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a raw query string before anything decodes it: broken percent-encoding or bytes that are
 * not UTF-8 are a 400 (Tomcat would otherwise drop the parameter silently or fail with a 500), and
 * decoded values holding NUL are a 422 naming the parameter, as they would be in a JSON body.
 */
final class QueryStrings {
    private QueryStrings() {}

    /** Why the query string is refused, or null. */
    record Refusal(ErrorCode code, String detail, List<FieldError> errors) {}

    static Refusal check(String raw) {
        if (raw == null || raw.isEmpty()) return null;
        List<FieldError> bad = new ArrayList<>();
        int index = 0;
        for (String pair : raw.split("&", -1)) {
            index++;
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            if (name == null || value == null) {
                return new Refusal(ErrorCode.INVALID_REQUEST, "the query string is not valid percent-encoded UTF-8 (parameter "
                        + index + "); encode each byte as %XX with two hex digits", List.of());
            }
            String nameProblem = TextCheck.problem(name);
            if (nameProblem != null) {
                bad.add(new FieldError("(query parameter " + index + ")", "its name " + nameProblem));
                continue;
            }
            String valueProblem = TextCheck.problem(value);
            if (valueProblem != null && bad.size() < Problem.MAX_ERRORS) bad.add(new FieldError(name, valueProblem));
        }
        return bad.isEmpty() ? null : new Refusal(ErrorCode.VALIDATION_FAILED,
                bad.size() == 1 ? bad.getFirst().field() + ": " + bad.getFirst().message() : bad.size() + " query parameters are invalid", bad);
    }

    /** Strict application/x-www-form-urlencoded decoding, or null if it is malformed. */
    static String decode(String s) {
        if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '+') {
                out.write(' ');
            } else if (c == '%') {
                if (i + 2 >= s.length()) return null;
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) return null;
                out.write(hi << 4 | lo);
                i += 2;
            } else if (c > 0x7F) {
                return null;
            } else {
                out.write(c);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}

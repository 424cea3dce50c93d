package dev.kiln.api;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import dev.kiln.support.KilnException;
import dev.kiln.support.TextCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Strict JSON parsing of request bodies: duplicate keys and trailing data are errors (400), and
 * so are, as 422 naming each field, strings holding NUL or unpaired surrogates and numbers that do
 * not fit 64 bits — before any of it reaches a model, a provider or the database.
 */
public final class RequestBodies {
    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private RequestBodies() {}

    /**
     * Parses a request body strictly (see the class comment); seed façades parse their bodies with
     * it too, so hostile input meets the same checks on every route.
     */
    public static JsonNode parse(byte[] body) {
        if (body == null || body.length == 0) throw new KilnException(ErrorCode.INVALID_JSON, "the request body is empty; send a JSON object");
        JsonNode n;
        try {
            n = STRICT.readTree(body);
        } catch (StreamConstraintsException e) {
            // Jackson stops reading numbers longer than 1000 digits before it knows where they are.
            if (String.valueOf(e.getOriginalMessage()).startsWith("Number value length")) {
                throw KilnException.validation("(body)", "holds a number of more than 1000 digits; numbers must fit 64 bits");
            }
            throw new KilnException(ErrorCode.INVALID_JSON, "the request body is outside Kiln's limits: " + e.getOriginalMessage());
        } catch (JacksonException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new KilnException(ErrorCode.INVALID_JSON, "the request body is not valid JSON" + where + ": " + e.getOriginalMessage());
        }
        if (n == null || n.isMissingNode()) throw new KilnException(ErrorCode.INVALID_JSON, "the request body is empty; send a JSON object");
        Found found = new Found();
        check(n, "", found);
        if (found.total > 0) throw KilnException.validation(found.first, found.total);
        return n;
    }

    /** Bad values found: the first {@link Problem#MAX_ERRORS} of them, and how many in all. */
    private static final class Found {
        final List<FieldError> first = new ArrayList<>();
        int total;

        void add(String field, String message) {
            if (total++ < Problem.MAX_ERRORS) first.add(new FieldError(field, message));
        }
    }

    private static void check(JsonNode n, String path, Found found) {
        if (n.isObject()) {
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                String name = e.getKey();
                String p = path.isEmpty() ? name : path + "." + name;
                String bad = TextCheck.problem(name);
                if (bad != null) found.add(path.isEmpty() ? "(field name)" : path + ".(field name)", "a field name " + bad);
                else check(e.getValue(), p, found);
            }
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) check(n.get(i), path + "[" + i + "]", found);
        } else if (n.isString()) {
            String bad = TextCheck.problem(n.asString());
            if (bad != null) found.add(field(path), bad);
        } else if (n.isIntegralNumber() && !n.canConvertToLong()) {
            found.add(field(path), "is a number beyond 64 bits (from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE + ")");
        } else if (n.isFloatingPointNumber() && !Double.isFinite(n.asDouble())) {
            found.add(field(path), "is a number too large for a 64-bit floating point value");
        }
    }

    private static String field(String path) {
        return path.isEmpty() ? "(body)" : path;
    }
}

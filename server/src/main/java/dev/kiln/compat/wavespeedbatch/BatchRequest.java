package dev.kiln.compat.wavespeedbatch;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The body of the batch generator's {@code POST /api/batch}, read field by field under its own
 * (camelCase) names: {@code prompt}, {@code subjectUrl}, {@code referenceUrls}, {@code width},
 * {@code height}, {@code batchCount}. Missing optional fields take the generator's defaults.
 */
record BatchRequest(String prompt, String subjectUrl, List<String> referenceUrls, Long width, Long height, Long batchCount) {
    static final long MIN_SIDE = 256;
    static final long MAX_SIDE = 2048;
    static final long MAX_BATCH = 10;
    /** Width and height when the body leaves them out (a square, as the generator's form starts with). */
    static final long DEFAULT_SIDE = 1024;

    /** Reads a body; a field of the wrong type reads as missing (and a required one is then reported as such). */
    static BatchRequest from(JsonNode body) {
        List<String> refs = new ArrayList<>();
        JsonNode r = body.get("referenceUrls");
        if (r != null && r.isArray()) {
            for (JsonNode u : r) if (u.isString() && !u.asString().isBlank()) refs.add(u.asString().strip());
        } else if (r != null && r.isString()) {
            // The form's field is comma-separated; a client sending that string as it is gets the same.
            for (String u : r.asString().split(",")) if (!u.isBlank()) refs.add(u.strip());
        }
        return new BatchRequest(text(body, "prompt"), text(body, "subjectUrl"), refs, number(body, "width"), number(body, "height"),
                number(body, "batchCount"));
    }

    private static String text(JsonNode body, String name) {
        JsonNode n = body.get(name);
        return n != null && n.isString() && !n.asString().isBlank() ? n.asString() : null;
    }

    /** An integer, also written as a string (HTML forms post numbers as text); {@code -1} for anything else present. */
    private static Long number(JsonNode body, String name) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) return null;
        if (n.isIntegralNumber() && n.canConvertToLong()) return n.longValue();
        if (n.isNumber() && n.doubleValue() == Math.rint(n.doubleValue())) return (long) n.doubleValue();
        if (n.isString() && n.asString().strip().matches("[0-9]{1,9}")) return Long.parseLong(n.asString().strip());
        return -1L;
    }

    long widthOrDefault() {
        return width == null ? DEFAULT_SIDE : width;
    }

    long heightOrDefault() {
        return height == null ? DEFAULT_SIDE : height;
    }

    long countOrDefault() {
        return batchCount == null ? 1 : batchCount;
    }

    /** Subject first, then the references: the order the model receives them. */
    List<String> images() {
        List<String> all = new ArrayList<>();
        all.add(subjectUrl);
        all.addAll(referenceUrls);
        return all;
    }
}

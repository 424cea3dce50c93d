package dev.kiln.api;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Strict JSON parsing of request bodies: duplicate keys and trailing data are errors. */
final class RequestBodies {
    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private RequestBodies() {}

    static JsonNode parse(byte[] body) {
        if (body == null || body.length == 0) throw new KilnException(ErrorCode.INVALID_JSON, "the request body is empty; send a JSON object");
        try {
            JsonNode n = STRICT.readTree(body);
            if (n == null || n.isMissingNode()) throw new KilnException(ErrorCode.INVALID_JSON, "the request body is empty; send a JSON object");
            return n;
        } catch (JacksonException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new KilnException(ErrorCode.INVALID_JSON, "the request body is not valid JSON" + where + ": " + e.getOriginalMessage());
        }
    }
}

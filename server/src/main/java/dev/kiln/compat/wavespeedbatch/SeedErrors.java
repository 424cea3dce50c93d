package dev.kiln.compat.wavespeedbatch;

import dev.kiln.support.FieldError;
import dev.kiln.support.KilnException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;

/**
 * The batch generator's one error shape, {@code {"error": "..."}} (plus {@code details} where
 * there is more to say), as its Express handlers answer: 400 "Missing required fields", 500
 * "Failed to fetch image", 404 for an unknown run. A core refusal is reported under the
 * generator's own field names.
 */
final class SeedErrors {
    static final String MISSING = "Missing required fields";
    static final String FETCH = "Failed to fetch image";

    private SeedErrors() {}

    static ResponseEntity<Map<String, Object>> of(int status, String error, String details) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error);
        if (details != null) body.put("details", details);
        return ResponseEntity.status(status).body(body);
    }

    /**
     * A core refusal: an input image that could not be fetched or read is the generator's 500
     * "Failed to fetch image: <url>"; other bad fields are 400 under the generator's names; the rest
     * (credits, a full queue, full storage) keep the core's status.
     *
     * @param images the request's images in the order the core received them (subject first)
     */
    static ResponseEntity<Map<String, Object>> of(KilnException e, List<String> images) {
        for (FieldError f : e.errors()) {
            Integer index = imageIndex(f.field());
            if (index != null && index < images.size()) {
                return of(500, FETCH + ": " + images.get(index), seedField(f.field()) + " " + f.message());
            }
        }
        if (!e.errors().isEmpty()) {
            FieldError f = e.errors().getFirst();
            return of(400, seedField(f.field()) + ": " + f.message(), e.errors().size() > 1 ? e.getMessage() : null);
        }
        var answer = of(e.code().status(), e.getMessage(), e.userAction());
        if (e.retryAfter() != null) {
            return ResponseEntity.status(answer.getStatusCode())
                    .header(HttpHeaders.RETRY_AFTER, Long.toString(e.retryAfter().toSeconds())).body(answer.getBody());
        }
        return answer;
    }

    /** {@code images.reference[3]} → 3; anything else → null. */
    static Integer imageIndex(String field) {
        if (!field.startsWith("images.reference[") || !field.endsWith("]")) return null;
        try {
            return Integer.parseInt(field.substring("images.reference[".length(), field.length() - 1));
        } catch (NumberFormatException ex) {
            return null;
        }
    }

    /** The core's field name as the generator calls it. */
    static String seedField(String core) {
        Integer i = imageIndex(core);
        if (i != null) return i == 0 ? "subjectUrl" : "referenceUrls[" + (i - 1) + "]";
        return switch (core) {
            case "params.width" -> "width";
            case "params.height" -> "height";
            case "count" -> "batchCount";
            case "images.reference", "images" -> "referenceUrls";
            default -> core;
        };
    }
}

package dev.kiln.api;

import dev.kiln.support.FieldError;
import dev.kiln.support.KilnException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/** Opaque cursors for list endpoints: the last id of the page, encoded. */
final class Cursor {
    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 200;

    private Cursor() {}

    static String encode(String lastId) {
        return lastId == null ? null : Base64.getUrlEncoder().withoutPadding().encodeToString(lastId.getBytes(StandardCharsets.UTF_8));
    }

    static String decode(String cursor) {
        if (cursor == null || cursor.isBlank()) return null;
        try {
            String id = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            if (!id.matches("[a-z]+_[0-9a-z]{26}")) throw new IllegalArgumentException();
            return id;
        } catch (IllegalArgumentException e) {
            throw KilnException.validation(List.of(new FieldError("cursor", "is not a cursor this API returned")));
        }
    }

    static int limit(Integer limit) {
        if (limit == null) return DEFAULT_LIMIT;
        if (limit < 1 || limit > MAX_LIMIT) {
            throw KilnException.validation(List.of(new FieldError("limit", "must be between 1 and " + MAX_LIMIT)));
        }
        return limit;
    }
}

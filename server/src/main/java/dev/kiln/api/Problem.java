package dev.kiln.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import java.util.List;

/** The one error shape of the API (RFC 9457 problem details plus {@code code} and {@code errors}). */
@JsonInclude(JsonInclude.Include.NON_NULL)
record Problem(String type, String title, int status, String detail, String code, List<FieldError> errors, String userAction) {

    static Problem of(ErrorCode code, String detail, List<FieldError> errors, String userAction) {
        return new Problem("https://kiln.dev/problems/" + code.wire().replace('_', '-'), code.title(), code.status(), detail,
                code.wire(), errors == null ? List.of() : errors, userAction);
    }
}

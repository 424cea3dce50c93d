package dev.kiln.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import java.util.List;

/**
 * The one error shape of the API (RFC 9457 problem details plus {@code code} and {@code errors}).
 * At most {@link #MAX_ERRORS} field errors are listed; {@code errors_total} then says how many
 * there were, so a hostile request cannot make a huge answer.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record Problem(String type, String title, int status, String detail, String code, List<FieldError> errors, Integer errorsTotal,
               String userAction) {
    static final int MAX_ERRORS = 100;

    static Problem of(ErrorCode code, String detail, List<FieldError> errors, String userAction) {
        return of(code, detail, errors, errors == null ? 0 : errors.size(), userAction);
    }

    static Problem of(ErrorCode code, String detail, List<FieldError> errors, int total, String userAction) {
        List<FieldError> listed = errors == null ? List.of() : errors.size() > MAX_ERRORS ? List.copyOf(errors.subList(0, MAX_ERRORS)) : errors;
        boolean cut = total > listed.size();
        return new Problem("https://kiln.dev/problems/" + code.wire().replace('_', '-'), code.title(), code.status(),
                cut ? detail + " (the first " + listed.size() + " are listed)" : detail, code.wire(), listed, cut ? total : null, userAction);
    }
}

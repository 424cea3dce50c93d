package dev.kiln.support;

import java.time.Duration;
import java.util.List;

/**
 * An expected failure that the API turns into one problem+json answer (mapped in one place,
 * {@code dev.kiln.api.ProblemHandler}). The detail is written for the client and never holds
 * internals.
 */
public class KilnException extends RuntimeException {
    private final ErrorCode code;
    private final List<FieldError> errors;
    private final Duration retryAfter;
    private final String userAction;
    private final int errorCount;

    public KilnException(ErrorCode code, String detail) {
        this(code, detail, List.of(), null, null);
    }

    public KilnException(ErrorCode code, String detail, List<FieldError> errors, Duration retryAfter, String userAction) {
        super(detail, null, false, false);
        this.code = code;
        this.errors = List.copyOf(errors);
        this.retryAfter = retryAfter;
        this.userAction = userAction;
        this.errorCount = errors.size();
    }

    private KilnException(ErrorCode code, String detail, List<FieldError> errors, int errorCount) {
        super(detail, null, false, false);
        this.code = code;
        this.errors = List.copyOf(errors);
        this.retryAfter = null;
        this.userAction = null;
        this.errorCount = Math.max(errorCount, errors.size());
    }

    public static KilnException notFound(String what, String id) {
        return new KilnException(ErrorCode.NOT_FOUND, what + " '" + id + "' does not exist");
    }

    public static KilnException validation(List<FieldError> errors) {
        String detail = errors.size() == 1
                ? errors.getFirst().field() + ": " + errors.getFirst().message()
                : errors.size() + " fields are invalid";
        return new KilnException(ErrorCode.VALIDATION_FAILED, detail, errors, null, null);
    }

    /**
     * A 422 from a check that stopped listing after {@code firstErrors} (so that a huge hostile
     * request cannot make a huge list) but counted {@code total} bad fields.
     */
    public static KilnException validation(List<FieldError> firstErrors, int total) {
        String detail = total == 1 ? firstErrors.getFirst().field() + ": " + firstErrors.getFirst().message()
                : total + " fields are invalid";
        return new KilnException(ErrorCode.VALIDATION_FAILED, detail, firstErrors, total);
    }

    public static KilnException validation(String field, String message) {
        return validation(List.of(new FieldError(field, message)));
    }

    public static KilnException conflict(String detail) {
        return new KilnException(ErrorCode.CONFLICT, detail);
    }

    public ErrorCode code() { return code; }
    public List<FieldError> errors() { return errors; }
    public Duration retryAfter() { return retryAfter; }
    public String userAction() { return userAction; }
    /** How many bad fields there were; {@link #errors()} may list only the first of them. */
    public int errorCount() { return errorCount; }
}

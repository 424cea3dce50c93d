package dev.kiln.compat.dotbase;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/**
 * The one error renderer of the {@code .base} API: its routes answer errors as a Next.js API
 * route does, {@code {"error": "…"}} with the status of the seed's table (400 bad parameters, 401,
 * 402 credits, 403, 404, 500), plus {@code message} (more detail) and {@code details} (each bad
 * field under the seed's name: {@code action}, {@code model_id}, {@code prompt},
 * {@code input_image_url}, {@code settings.<name>}) where there are some. Kiln's own codes keep
 * their status where the seed has none (409, 413, 503, …).
 */
@RestControllerAdvice(assignableTypes = DotbaseController.class)
@Order(Ordered.HIGHEST_PRECEDENCE)
@ConditionalOnCompat("002")
class DotbaseErrors {
    private static final Logger log = LoggerFactory.getLogger(DotbaseErrors.class);

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ErrorBody(@JsonProperty("error") String error, @JsonProperty("message") String message,
                     @JsonProperty("details") List<Detail> details) {}

    record Detail(@JsonProperty("field") String field, @JsonProperty("message") String message) {}

    /** An error of the {@code .base} API itself, already in its words. */
    static final class DotbaseException extends RuntimeException {
        final int status;
        final String error;
        final List<Detail> details;

        DotbaseException(int status, String error, List<Detail> details) {
            super(error, null, false, false);
            this.status = status;
            this.error = error;
            this.details = details;
        }

        static DotbaseException badRequest(String field, String message) {
            return new DotbaseException(400, field + ": " + message, List.of(new Detail(field, message)));
        }

        static DotbaseException notFound() {
            return new DotbaseException(404, "Generation not found", null);
        }
    }

    @ExceptionHandler(DotbaseException.class)
    ResponseEntity<ErrorBody> dotbase(DotbaseException e) {
        return ResponseEntity.status(e.status).body(new ErrorBody(e.error, null, e.details));
    }

    @ExceptionHandler(KilnException.class)
    ResponseEntity<ErrorBody> kiln(KilnException e) {
        ResponseEntity.BodyBuilder b = ResponseEntity.status(status(e.code()));
        if (e.retryAfter() != null) b.header(HttpHeaders.RETRY_AFTER, String.valueOf(Math.max(1, e.retryAfter().toSeconds())));
        return b.body(body(e));
    }

    static int status(ErrorCode code) {
        return switch (code) {
            case VALIDATION_FAILED, INVALID_JSON, INVALID_REQUEST -> 400;
            default -> code.status();
        };
    }

    static ErrorBody body(KilnException e) {
        return switch (e.code()) {
            case VALIDATION_FAILED -> {
                List<Detail> details = e.errors().stream().map(f -> new Detail(seedField(f.field()), f.message())).toList();
                String first = details.isEmpty() ? e.getMessage() : details.getFirst().field() + ": " + details.getFirst().message();
                yield new ErrorBody(e.errorCount() > 1 ? e.errorCount() + " fields are invalid; " + first : first, null, details);
            }
            case INVALID_JSON, INVALID_REQUEST -> new ErrorBody(e.getMessage(), null, null);
            case UNAUTHORIZED -> new ErrorBody("Unauthorized", e.getMessage(), null);
            case INSUFFICIENT_CREDITS -> new ErrorBody("Insufficient credits", e.getMessage(), null);
            case FORBIDDEN -> new ErrorBody("Forbidden", e.getMessage(), null);
            case NOT_FOUND -> new ErrorBody("Not found", e.getMessage(), null);
            default -> new ErrorBody(e.code().title(), e.getMessage(), null);
        };
    }

    /**
     * A core field name in the seed's words: {@code params.x} is {@code settings.x}, an image input
     * is {@code input_image_url}, {@code model} is {@code model_id}, {@code mode} is {@code action}.
     */
    static String seedField(String core) {
        if (core == null || core.isEmpty()) return "body";
        if (core.startsWith("params.")) return "settings." + core.substring("params.".length());
        if (core.equals("params")) return "settings";
        if (core.startsWith("images")) return "input_image_url";
        if (core.equals("model")) return "model_id";
        if (core.equals("mode")) return "action";
        if (core.equals("negative_prompt")) return "settings.negative_prompt";
        if (core.startsWith("prompt")) return "prompt";
        return core;
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<ErrorBody> unreadable(HttpMessageNotReadableException e) {
        return ResponseEntity.status(400).body(new ErrorBody("the request body is missing or is not valid JSON", null, null));
    }

    @ExceptionHandler(MissingServletRequestParameterException.class)
    ResponseEntity<ErrorBody> missing(MissingServletRequestParameterException e) {
        return dotbase(DotbaseException.badRequest(e.getParameterName(), "is required"));
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ErrorBody> mismatch(MethodArgumentTypeMismatchException e) {
        return dotbase(DotbaseException.badRequest(e.getName(), "has an invalid value"));
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<ErrorBody> method(HttpRequestMethodNotSupportedException e) {
        return ResponseEntity.status(405).body(new ErrorBody("Method not allowed", e.getMethod() + " is not allowed here", null));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ErrorBody> unexpected(Exception e, HttpServletRequest req) {
        if (e instanceof org.springframework.web.context.request.async.AsyncRequestNotUsableException) return null;
        log.error("unexpected error on {} {}", req.getMethod(), req.getRequestURI(), e);
        return ResponseEntity.status(500).body(new ErrorBody("Internal server error", null, null));
    }
}

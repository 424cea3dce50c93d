package dev.kiln.compat.vibewave;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import tools.jackson.databind.node.ObjectNode;

/**
 * Vibewave's one error renderer, for its workflow and Qwen routes only (not the pods routes):
 * FastAPI's {@code {"detail": "…"}} with 400 (a bad parameter; Kiln's 422 too), 404 (unknown
 * request), 408 (a synchronous call that outlived its wait) or 500; Kiln's own refusals (401,
 * 402, 429, 503) keep their status.
 */
@RestControllerAdvice(assignableTypes = {WorkflowController.class, QwenController.class})
@Order(Ordered.HIGHEST_PRECEDENCE)
@ConditionalOnCompat("004")
class VibewaveErrors {
    private static final Logger log = LoggerFactory.getLogger(VibewaveErrors.class);

    @ExceptionHandler(VibewaveException.class)
    ResponseEntity<ObjectNode> vibewave(VibewaveException e) {
        return detail(e.status(), e.getMessage(), null);
    }

    @ExceptionHandler(KilnException.class)
    ResponseEntity<ObjectNode> kiln(KilnException e) {
        RuntimeException t = VibewaveJobs.translate(e);
        if (t instanceof VibewaveException v) return detail(v.status(), v.getMessage(), null);
        int status = switch (e.code()) {
            case VALIDATION_FAILED, INVALID_JSON, INVALID_REQUEST -> 400;
            case NOT_FOUND -> 404;
            default -> e.code().status();
        };
        String detail = e.code() == ErrorCode.INVALID_JSON ? WorkflowInput.INVALID + ": " + e.getMessage() : e.getMessage();
        return detail(status, detail, e.retryAfter() == null ? null : String.valueOf(Math.max(1, e.retryAfter().toSeconds())));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ObjectNode> unexpected(Exception e, HttpServletRequest req) {
        if (e instanceof org.springframework.web.context.request.async.AsyncRequestNotUsableException) return null;
        if (e instanceof org.springframework.web.bind.MissingServletRequestParameterException
                || e instanceof org.springframework.web.method.annotation.MethodArgumentTypeMismatchException) {
            return detail(400, WorkflowInput.INVALID + ": " + e.getMessage(), null);
        }
        log.error("unexpected error on {} {}", req.getMethod(), req.getRequestURI(), e);
        return detail(500, "Internal server error; it has been logged", null);
    }

    static ResponseEntity<ObjectNode> detail(int status, String detail, String retryAfter) {
        ResponseEntity.BodyBuilder b = ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON);
        if (retryAfter != null) b.header(HttpHeaders.RETRY_AFTER, retryAfter);
        return b.body(Json.object().put("detail", detail));
    }
}

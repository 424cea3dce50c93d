package dev.kiln.compat.runpodworker;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.support.ErrorCode;
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
 * The RunPod worker format's one error renderer: under {@code /v2/…} RunPod's
 * {@code {"error": "…"}} with its status (400 bad body, 401 bad key, 404 unknown endpoint or
 * request, 413 too large, 429/503 busy, 500), at the root the seed handler's
 * {@code {"status":"error","message":"…"}} with the same status. Kiln's 422 (a field it refuses)
 * is RunPod's 400.
 */
@RestControllerAdvice(basePackageClasses = RunPodWorkerController.class)
@Order(Ordered.HIGHEST_PRECEDENCE)
@ConditionalOnCompat("001")
class WorkerErrors {
    private static final Logger log = LoggerFactory.getLogger(WorkerErrors.class);

    @ExceptionHandler(WorkerException.class)
    ResponseEntity<ObjectNode> worker(WorkerException e, HttpServletRequest req) {
        return render(req, e.status(), e.getMessage(), null);
    }

    @ExceptionHandler(KilnException.class)
    ResponseEntity<ObjectNode> kiln(KilnException e, HttpServletRequest req) {
        RuntimeException t = WorkerJobs.translate(e);
        if (t instanceof WorkerException w) return render(req, w.status(), w.getMessage(), null);
        int status = e.code() == ErrorCode.VALIDATION_FAILED ? 400 : e.code().status();
        return render(req, status, e.getMessage(), e.retryAfter() == null ? null : String.valueOf(Math.max(1, e.retryAfter().toSeconds())));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ObjectNode> unexpected(Exception e, HttpServletRequest req) {
        if (e instanceof org.springframework.web.context.request.async.AsyncRequestNotUsableException) return null;
        log.error("unexpected error on {} {}", req.getMethod(), req.getRequestURI(), e);
        return render(req, 500, "an unexpected error occurred; it has been logged", null);
    }

    static ResponseEntity<ObjectNode> render(HttpServletRequest req, int status, String message, String retryAfter) {
        ObjectNode body = req.getRequestURI().startsWith("/v2/") ? dev.kiln.support.Json.object().put("error", message)
                : WorkerJobs.error(message);
        ResponseEntity.BodyBuilder b = ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON);
        if (retryAfter != null) b.header(HttpHeaders.RETRY_AFTER, retryAfter);
        return b.body(body);
    }
}

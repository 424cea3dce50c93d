package dev.kiln.compat.mediagen;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import dev.kiln.support.KilnException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.multipart.MaxUploadSizeExceededException;
import org.springframework.web.multipart.MultipartException;

/**
 * The one error renderer of the MediaGen façade, for its own routes and its {@code /status}
 * answers. MediaGen's clients read {@code {status:"error", error, code?, details?}}
 * ({@code ErrorResponse} in its integration guide) and throw {@code error.error}; a full queue
 * answers in the exact shape its backend documents, {@code {"detail":{"code":"queue_overloaded",
 * "detail":…,"user_action":…}}}, with {@code Retry-After}. Core field names in validation errors
 * ({@code params.steps}, {@code images.first_frame}, {@code count}) come back under the names the
 * client sent ({@code steps}, {@code first_frame_image}, {@code batch_size}).
 */
@ConditionalOnCompat("003")
@RestControllerAdvice(basePackageClasses = MediaGenErrors.class)
@Order(Ordered.HIGHEST_PRECEDENCE)
class MediaGenErrors {
    private static final Logger log = LoggerFactory.getLogger(MediaGenErrors.class);

    /** Core image input names → the payload fields that fill them. */
    static final Map<String, String> IMAGE_FIELDS = Map.of(
            "reference_image", "reference_image", "first_frame", "first_frame_image", "last_frame", "last_frame_image");

    @ExceptionHandler(MediaGenException.class)
    ResponseEntity<Object> own(MediaGenException e) {
        return body(e.status(), e.code(), e.getMessage(), e.details());
    }

    @ExceptionHandler(KilnException.class)
    ResponseEntity<Object> core(KilnException e) {
        return render(e);
    }

    @ExceptionHandler(MaxUploadSizeExceededException.class)
    ResponseEntity<Object> tooLarge(MaxUploadSizeExceededException e) {
        return body(413, ErrorCode.TOO_LARGE.wire(), "The upload is larger than allowed (KILN_MAX_UPLOAD)", null);
    }

    @ExceptionHandler(MultipartException.class)
    ResponseEntity<Object> multipart(MultipartException e) {
        return body(400, "invalid_multipart", "The multipart form could not be read", null);
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<Object> method(HttpRequestMethodNotSupportedException e) {
        return body(405, ErrorCode.METHOD_NOT_ALLOWED.wire(), e.getMethod() + " is not allowed here", null);
    }

    @ExceptionHandler(RuntimeException.class)
    ResponseEntity<Object> unexpected(RuntimeException e) {
        log.error("MediaGen request failed", e);
        return body(500, ErrorCode.INTERNAL.wire(), "Internal error", null);
    }

    /** A core refusal in MediaGen's shapes. */
    static ResponseEntity<Object> render(KilnException e) {
        if (e.code() == ErrorCode.QUEUE_OVERLOADED) return overloaded(e);
        Object details = null;
        String error = e.getMessage();
        if (!e.errors().isEmpty()) {
            List<Map<String, String>> fields = e.errors().stream().map(MediaGenErrors::field).toList();
            details = fields;
            error = fields.size() == 1 ? fields.getFirst().get("field") + ": " + fields.getFirst().get("message")
                    : fields.size() + " fields are invalid: " + String.join(", ", fields.stream().map(f -> f.get("field")).distinct().toList());
        }
        ResponseEntity.BodyBuilder b = ResponseEntity.status(e.code().status()).contentType(MediaType.APPLICATION_JSON);
        if (e.retryAfter() != null) b.header(HttpHeaders.RETRY_AFTER, String.valueOf(Math.max(1, e.retryAfter().toSeconds())));
        return b.body(error(error, e.code().wire(), details));
    }

    /**
     * 503 in the exact shape MediaGen's backend documents for its bounded queues, with
     * {@code Retry-After} (whole seconds, at least 1; 30 — the shared lane's longest wait — when
     * the core names none).
     */
    static ResponseEntity<Object> overloaded(KilnException e) {
        long retry = e.retryAfter() == null ? 30 : Math.max(1, e.retryAfter().toSeconds());
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", "queue_overloaded");
        inner.put("detail", "Generation queue is overloaded: " + e.getMessage());
        inner.put("user_action", e.userAction() != null ? e.userAction() : "Retry later.");
        return ResponseEntity.status(503).contentType(MediaType.APPLICATION_JSON).header(HttpHeaders.RETRY_AFTER, String.valueOf(retry))
                .body(Map.of("detail", inner));
    }

    static ResponseEntity<Object> body(int status, String code, String error, Object details) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON).body(error(error, code, details));
    }

    static Map<String, Object> error(String error, String code, Object details) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "error");
        m.put("error", error);
        m.put("code", code);
        if (details != null) m.put("details", details);
        return m;
    }

    private static Map<String, String> field(FieldError f) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("field", seedName(f.field()));
        m.put("message", f.message());
        return m;
    }

    /** A core field name as MediaGen's payload names it. */
    static String seedName(String core) {
        if (core.startsWith("params.")) return core.substring("params.".length());
        if (core.startsWith("images.")) {
            String name = core.substring("images.".length()).replaceAll("\\[\\d+]$", "");
            return IMAGE_FIELDS.getOrDefault(name, name);
        }
        if (core.equals("count")) return "batch_size";
        return core;
    }
}

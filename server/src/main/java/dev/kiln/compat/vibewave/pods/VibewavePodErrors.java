package dev.kiln.compat.vibewave.pods;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.provider.ProviderException;
import dev.kiln.support.KilnException;
import java.util.Map;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Vibewave's error body, {@code {"detail": "…"}} (seed 004, "Error Handling"), for its RunPod pod
 * routes only: 400 for bad input and what RunPod refused as invalid, 404 for an unknown pod or
 * volume, 500 {@code "RunPod API error: …"} for what RunPod failed or refused otherwise.
 */
@RestControllerAdvice(basePackageClasses = VibewavePodErrors.class)
@Order(Ordered.HIGHEST_PRECEDENCE)
@ConditionalOnCompat("004")
class VibewavePodErrors {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(VibewavePodErrors.class);

    @ExceptionHandler(VibewavePods.BadRequest.class)
    ResponseEntity<Map<String, String>> bad(VibewavePods.BadRequest e) {
        return detail(400, e.getMessage());
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<Map<String, String>> unreadable(HttpMessageNotReadableException e) {
        return detail(400, "Invalid pod parameters: the body is not valid JSON");
    }

    @ExceptionHandler(ProviderException.class)
    ResponseEntity<Map<String, String>> runpod(ProviderException e) {
        String msg = e.getMessage().startsWith(e.provider() + ": ") ? e.getMessage().substring(e.provider().length() + 2) : e.getMessage();
        return switch (e) {
            case ProviderException.NotFound nf -> detail(404, notFound(msg));
            case ProviderException.Rejected r when r.httpStatus() == 400 -> detail(400, "RunPod API error: " + msg);
            default -> detail(500, "RunPod API error: " + msg);
        };
    }

    @ExceptionHandler(KilnException.class)
    ResponseEntity<Map<String, String>> kiln(KilnException e) {
        int status = e.code().status();
        return detail(status == 401 || status == 403 || status == 404 ? status : status >= 500 ? 500 : 400, e.getMessage());
    }

    /** Whatever else Spring refuses (a wrong method, a bad path variable) keeps its status; anything unexpected is a 500. */
    @ExceptionHandler(Exception.class)
    ResponseEntity<Map<String, String>> other(Exception e) {
        if (e instanceof org.springframework.web.ErrorResponse r) {
            int status = r.getStatusCode().value();
            return detail(status, r.getBody().getDetail() != null ? r.getBody().getDetail() : "Request failed with status " + status);
        }
        LOG.error("Vibewave pod route failed", e);
        return detail(500, "Internal server error");
    }

    private static String notFound(String msg) {
        String m = msg.toLowerCase(java.util.Locale.ROOT);
        if (m.contains("volume")) return "Network volume not found";
        if (m.contains("no ip")) return msg;
        return "Pod not found";
    }

    private static ResponseEntity<Map<String, String>> detail(int status, String detail) {
        return ResponseEntity.status(status).body(Map.of("detail", detail == null ? "" : detail));
    }
}

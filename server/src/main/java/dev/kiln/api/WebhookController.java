package dev.kiln.api;

import dev.kiln.config.LimitsProperties;
import dev.kiln.engine.WebhookIntake;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /webhooks/{provider}}. The body is read by hand, and only after the provider name
 * and the job token checked out and only up to {@code KILN_WEBHOOK_MAX_BODY}: a flood of large
 * bodies with wrong tokens costs no memory. The token is read from the raw query string, never
 * through {@code getParameter}, which would make the container read a form body.
 */
@Tag(name = "Provider webhooks")
@RestController
class WebhookController {
    private final WebhookIntake intake;
    private final long maxBody;

    WebhookController(WebhookIntake intake, LimitsProperties limits) {
        this.intake = intake;
        this.maxBody = limits.webhookMaxBody().toBytes();
    }

    static boolean isWebhook(HttpServletRequest req) {
        return req.getRequestURI().startsWith("/webhooks/");
    }

    @Operation(summary = "A provider's callback", description = "Verified by the job token in the URL and the provider's "
            + "signature; unverified deliveries answer 401 and change nothing; replays and duplicates answer 200 and change nothing; "
            + "unknown providers answer 404; bodies over KILN_WEBHOOK_MAX_BODY (1 MB) answer 413.")
    @PostMapping("/webhooks/{provider}")
    ResponseEntity<?> receive(@PathVariable String provider, HttpServletRequest req) throws IOException {
        if (!intake.knows(provider)) {
            return ProblemHandler.of(ErrorCode.NOT_FOUND, "there is no webhook endpoint for that provider; the providers are "
                    + String.join(", ", intake.providers()));
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String name : Collections.list(req.getHeaderNames())) headers.put(name, Collections.list(req.getHeaders(name)));
        WebhookIntake.Result r = intake.receive(provider, queryParameter(req.getQueryString(), "token"), headers, () -> read(req));
        return switch (r.outcome()) {
            case ACCEPTED, COALESCED -> ResponseEntity.ok(Map.of("status", "accepted"));
            case DUPLICATE, IGNORED -> ResponseEntity.ok(Map.of("status", "ignored", "reason", r.reason()));
            case REJECTED -> ProblemHandler.of(ErrorCode.UNAUTHORIZED, "the webhook could not be verified");
        };
    }

    private byte[] read(HttpServletRequest req) throws IOException {
        if (req.getContentLengthLong() > maxBody) throw tooLarge();
        // The body-limit filter also stops a body without Content-Length at the limit.
        byte[] body = req.getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBody + 1));
        if (body.length > maxBody) throw tooLarge();
        return body;
    }

    private KilnException tooLarge() {
        return new KilnException(ErrorCode.TOO_LARGE, "a webhook body may be at most " + maxBody + " bytes (KILN_WEBHOOK_MAX_BODY)");
    }

    /** One parameter of a raw query string (already checked by the query filter), or null. */
    static String queryParameter(String query, String name) {
        if (query == null) return null;
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String n = QueryStrings.decode(eq < 0 ? pair : pair.substring(0, eq));
            if (name.equals(n)) return eq < 0 ? "" : QueryStrings.decode(pair.substring(eq + 1));
        }
        return null;
    }
}

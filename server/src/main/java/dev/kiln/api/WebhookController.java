package dev.kiln.api;

import dev.kiln.engine.WebhookIntake;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.support.ErrorCode;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@Tag(name = "Provider webhooks")
@RestController
class WebhookController {
    private final WebhookIntake intake;
    private final Clock clock;

    WebhookController(WebhookIntake intake, Clock clock) {
        this.intake = intake;
        this.clock = clock;
    }

    @Operation(summary = "A provider's callback", description = "Verified by the job token in the URL and the provider's signature; unverified deliveries answer 401 and change nothing; duplicates answer 200.")
    @PostMapping("/webhooks/{provider}")
    ResponseEntity<?> receive(@PathVariable String provider, @RequestParam(required = false) String token,
                              @RequestBody(required = false) byte[] body, HttpServletRequest req) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String name : Collections.list(req.getHeaderNames())) headers.put(name, Collections.list(req.getHeaders(name)));
        WebhookIntake.Result r = intake.receive(provider, token,
                new WebhookDelivery(headers, body == null ? new byte[0] : body, clock.instant()));
        return switch (r.outcome()) {
            case ACCEPTED -> ResponseEntity.ok(Map.of("status", "accepted"));
            case IGNORED -> ResponseEntity.ok(Map.of("status", "ignored", "reason", r.reason()));
            case REJECTED -> ProblemHandler.of(ErrorCode.UNAUTHORIZED, "the webhook could not be verified");
        };
    }
}

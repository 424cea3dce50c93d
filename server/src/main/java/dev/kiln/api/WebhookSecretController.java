package dev.kiln.api;

import dev.kiln.engine.OutboxSender;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

@Tag(name = "Jobs")
@RestController
class WebhookSecretController {
    private final OutboxSender sender;

    WebhookSecretController(OutboxSender sender) {
        this.sender = sender;
    }

    @Operation(summary = "The secret that signs Kiln's webhooks to clients",
            description = "Deliveries carry webhook-id, webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256 of id.timestamp.body>), as Standard Webhooks verifiers expect.")
    @GetMapping("/v1/webhook-secret")
    Map<String, String> secret(Caller caller) {
        if (!caller.isAdmin()) throw new KilnException(ErrorCode.FORBIDDEN, "only an admin may read the webhook signing secret");
        return Map.of("secret", sender.secret(), "scheme", "standard-webhooks v1");
    }
}

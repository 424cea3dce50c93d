package dev.kiln.api;

import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import dev.kiln.user.Credentials;
import dev.kiln.user.Identity;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** API keys for server-to-server clients: named, shown once, stored hashed, revocable. */
@Tag(name = "API keys", description = "Keys for server-to-server clients")
@RestController
@RequestMapping("/v1/api-keys")
class ApiKeyController {
    private final Credentials credentials;
    private final Identity identity;

    ApiKeyController(Credentials credentials, Identity identity) {
        this.credentials = credentials;
        this.identity = identity;
    }

    record NewKeyRequest(@Schema(requiredMode = Schema.RequiredMode.REQUIRED, description = "what the key is for") String name) {}

    /** A key as listed: never its secret, only the first characters to recognise it by. */
    record KeyView(String id, String name, String hint, Instant createdAt, Instant lastUsedAt) {
        static KeyView of(Credentials.Credential c) {
            return new KeyView(c.id(), c.name(), c.hint(), c.createdAt(), c.lastUsedAt());
        }
    }

    /** A key just made: {@code key} is the secret, shown this once. */
    record NewKeyView(String id, String name, String hint, String key, Instant createdAt) {}

    @Operation(summary = "Create an API key", description = "The key is in the answer once; only its SHA-256 is stored. "
            + "Send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(schema = @Schema(implementation = NewKeyRequest.class)))
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<NewKeyView> create(Caller caller, @RequestBody byte[] body) {
        requireAccounts();
        JsonNode n = RequestBodies.parse(body);
        JsonNode name = n.path("name");
        if (!name.isString()) throw KilnException.validation("name", "is required: 1 to 100 characters naming the key");
        Credentials.Issued k = credentials.createApiKey(caller.id(), name.asString());
        Credentials.Credential c = k.credential();
        return ResponseEntity.created(URI.create("/v1/api-keys/" + c.id()))
                .body(new NewKeyView(c.id(), c.name(), c.hint(), k.secret(), c.createdAt()));
    }

    @Operation(summary = "List your API keys", description = "Without their secrets.")
    @GetMapping
    Map<String, List<KeyView>> list(Caller caller) {
        requireAccounts();
        return Map.of("items", credentials.apiKeys(caller.id()).stream().map(KeyView::of).toList());
    }

    @Operation(summary = "Revoke an API key", description = "At once, on every instance. Another user's key answers 404 (an admin may revoke any).")
    @DeleteMapping("/{id}")
    ResponseEntity<Void> revoke(Caller caller, @PathVariable String id) {
        requireAccounts();
        Credentials.Credential c = credentials.apiKey(id).filter(k -> caller.owns(k.userId()))
                .orElseThrow(() -> KilnException.notFound("API key", id));
        credentials.revoke(c.id());
        return ResponseEntity.noContent().build();
    }

    private void requireAccounts() {
        if (identity.local()) throw KilnException.conflict(AuthController.LOCAL_MODE);
    }
}

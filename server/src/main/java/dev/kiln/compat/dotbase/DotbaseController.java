package dev.kiln.compat.dotbase;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.kiln.api.RequestBodies;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.compat.dotbase.DotbaseErrors.DotbaseException;
import dev.kiln.config.LimitsProperties;
import dev.kiln.credit.Ledger;
import dev.kiln.engine.WebhookIntake;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import dev.kiln.user.Credentials;
import dev.kiln.user.Identity;
import dev.kiln.user.LoginThrottle;
import dev.kiln.user.Sessions;
import dev.kiln.user.TelegramLogin;
import dev.kiln.user.User;
import dev.kiln.user.Users;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.responses.ApiResponses;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;
import tools.jackson.databind.JsonNode;

/**
 * The {@code .base} API (docs/ARCHITECTURE.md, "compat/dotbase"): its model list, generations,
 * Replicate webhook and Telegram login, each a thin translation onto Kiln's catalogue, jobs,
 * webhook intake and sessions. Errors are rendered by {@link DotbaseErrors}.
 */
@Tag(name = "Seed API: .base", description = "The routes of the .base app (Next.js, Replicate): point its client at Kiln and it keeps working.")
@RestController
@ConditionalOnCompat("002")
class DotbaseController {
    private final DotbaseCatalog catalog;
    private final DotbaseGenerations generations;
    private final WebhookIntake intake;
    private final long maxWebhookBody;
    private final Identity identity;
    private final TelegramLogin telegram;
    private final Users users;
    private final Sessions sessions;
    private final LoginThrottle throttle;
    private final Ledger ledger;

    DotbaseController(DotbaseCatalog catalog, DotbaseGenerations generations, WebhookIntake intake, LimitsProperties limits,
                      Identity identity, TelegramLogin telegram, Users users, Sessions sessions, LoginThrottle throttle, Ledger ledger) {
        this.catalog = catalog;
        this.generations = generations;
        this.intake = intake;
        this.maxWebhookBody = limits.webhookMaxBody().toBytes();
        this.identity = identity;
        this.telegram = telegram;
        this.users = users;
        this.sessions = sessions;
        this.throttle = throttle;
        this.ledger = ledger;
    }

    record ModelList(@JsonProperty("models") List<DotbaseCatalog.ModelEntry> models) {}

    record CreateRequest(@JsonProperty("action") @Schema(requiredMode = Schema.RequiredMode.REQUIRED, allowableValues = {"create", "edit", "upscale", "remove_bg"}) String action,
                         @JsonProperty("model_id") @Schema(requiredMode = Schema.RequiredMode.REQUIRED, example = "flux-schnell") String modelId,
                         @JsonProperty("prompt") String prompt,
                         @JsonProperty("input_image_url") String inputImageUrl,
                         @JsonProperty("settings") Map<String, Object> settings) {}

    record Success(@JsonProperty("success") boolean success) {}

    record Received(@JsonProperty("received") boolean received) {}

    record TelegramRequest(@JsonProperty("initData") @Schema(requiredMode = Schema.RequiredMode.REQUIRED) String initData) {}

    record TelegramUser(@JsonProperty("id") String id, @JsonProperty("telegram_username") String telegramUsername,
                        @JsonProperty("telegram_first_name") String telegramFirstName, @JsonProperty("credits") BigDecimal credits) {}

    record TelegramSession(@JsonProperty("user") TelegramUser user, @JsonProperty("session_token") String sessionToken) {}

    @Operation(summary = ".base: list models", description = "One entry per model and action (create, edit, upscale, remove_bg) that some "
            + "account can run, with the settings a form needs (textarea, select, slider, number, switch). runs counts the jobs Kiln holds for the model.")
    @ApiResponses({
            @ApiResponse(responseCode = "400", description = "Bad parameters: error names the field, details lists each under the seed's names", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class)))})
    @GetMapping("/api/models/list")
    ModelList models(@RequestParam(required = false) String action) {
        if (action != null && !DotbaseCatalog.ACTIONS.contains(action)) {
            throw DotbaseException.badRequest("action", "must be one of " + String.join(", ", DotbaseCatalog.ACTIONS));
        }
        return new ModelList(catalog.list(action));
    }

    @Operation(summary = ".base: create a generation", description = "settings are the model's parameters; input_image_url goes to the "
            + "image input of the action (edit, upscale, remove_bg). Answers {id, prediction_id, status}; 400 names the bad field, "
            + "402 when the credits do not cover it.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(schema = @Schema(implementation = CreateRequest.class)))
    @ApiResponses({
            @ApiResponse(responseCode = "400", description = "Bad parameters: error names the field, details lists each under the seed's names", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "401", description = "Unauthorized: no valid credentials (with KILN_AUTH=on send Authorization: Bearer <session_token>)", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "402", description = "Insufficient credits: nothing was created", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "503", description = "The queue is full; see Retry-After", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class)))})
    @PostMapping("/api/generations/create")
    DotbaseGenerations.Created create(Caller caller, @RequestBody(required = false) byte[] body) {
        return generations.create(caller, RequestBodies.parse(body), base());
    }

    @Operation(summary = ".base: list the caller's generations", description = "Newest first; page (from 1), limit (1–100), "
            + "action and status (processing, completed, failed) filters.")
    @ApiResponses({
            @ApiResponse(responseCode = "400", description = "Bad parameters: error names the field, details lists each under the seed's names", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "401", description = "Unauthorized: no valid credentials (with KILN_AUTH=on send Authorization: Bearer <session_token>)", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class)))})
    @GetMapping("/api/generations/list")
    DotbaseGenerations.GenerationList list(Caller caller, @RequestParam(required = false) String page,
                                           @RequestParam(required = false) String limit, @RequestParam(required = false) String action,
                                           @RequestParam(required = false) String status) {
        return generations.list(caller, number("page", page, 1, 1, 1_000_000), number("limit", limit, 20, 1, 100),
                blankToNull(action), blankToNull(status), base());
    }

    @Operation(summary = ".base: one generation", description = "status processing, completed or failed; output_urls (links that work "
            + "without credentials for 24 h) once completed; processing_time_ms as the provider measured it.")
    @ApiResponses({
            @ApiResponse(responseCode = "401", description = "Unauthorized: no valid credentials (with KILN_AUTH=on send Authorization: Bearer <session_token>)", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "404", description = "Generation not found (unknown, another user's, or made through another API)", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class)))})
    @GetMapping("/api/generations/{id}")
    DotbaseGenerations.Generation get(Caller caller, @PathVariable String id) {
        return generations.get(caller, id, base());
    }

    @Operation(summary = ".base: delete a generation", description = "Cancels it first if it is still running (at the provider too), "
            + "then deletes it and its files.")
    @ApiResponses({
            @ApiResponse(responseCode = "401", description = "Unauthorized: no valid credentials (with KILN_AUTH=on send Authorization: Bearer <session_token>)", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "404", description = "Generation not found (unknown, another user's, or made through another API)", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class)))})
    @DeleteMapping("/api/generations/{id}")
    Success delete(Caller caller, @PathVariable String id) {
        generations.delete(caller, id);
        return new Success(true);
    }

    @Operation(summary = ".base: Replicate's webhook", description = "The URL carries no token: the delivery is matched to its job by the "
            + "prediction id in the body and verified by Replicate's Standard Webhooks signature (webhook-id, webhook-timestamp, "
            + "webhook-signature) with that job's account secret; unverified deliveries answer 401 and change nothing. A verified "
            + "delivery only makes Kiln look at the prediction now.")
    @ApiResponses({
            @ApiResponse(responseCode = "400", description = "The body is not JSON", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "401", description = "Invalid webhook signature: not verified, or no job tracks the prediction", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "413", description = "The webhook body is larger than KILN_WEBHOOK_MAX_BODY", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class)))})
    @PostMapping("/api/webhook/replicate")
    ResponseEntity<Received> replicateWebhook(HttpServletRequest req) throws IOException {
        if (req.getContentLengthLong() > maxWebhookBody) throw tooLarge();
        byte[] body = req.getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxWebhookBody + 1));
        if (body.length > maxWebhookBody) throw tooLarge();
        String predictionId = null;
        try {
            JsonNode n = Json.MAPPER.readTree(body);
            if (n != null && n.path("id").isString()) predictionId = n.path("id").asString();
        } catch (RuntimeException e) {
            throw new KilnException(ErrorCode.INVALID_JSON, "the webhook body is not JSON");
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String name : Collections.list(req.getHeaderNames())) headers.put(name, Collections.list(req.getHeaders(name)));
        WebhookIntake.Result r = intake.receiveForRemoteJob("replicate", predictionId, headers, body);
        return switch (r.outcome()) {
            case ACCEPTED, COALESCED, DUPLICATE, IGNORED -> ResponseEntity.ok(new Received(true));
            case REJECTED -> throw new DotbaseException(401, "Invalid webhook signature", null);
        };
    }

    @Operation(summary = ".base: log in with Telegram", description = "Body {initData} from the Telegram Web App, checked as Telegram "
            + "documents it (Kiln's Telegram login). Answers the user and a session_token to send as 'Authorization: Bearer <token>'; "
            + "the session cookie is set too.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(schema = @Schema(implementation = TelegramRequest.class)))
    @ApiResponses({
            @ApiResponse(responseCode = "400", description = "initData is missing", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "401", description = "The initData is forged, altered, too old or used before", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "409", description = "Conflict: local mode has no logins, or Telegram login is not enabled", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class))),
            @ApiResponse(responseCode = "429", description = "Too many login attempts; see Retry-After", content = @Content(schema = @Schema(implementation = DotbaseErrors.ErrorBody.class)))})
    @PostMapping("/api/auth/telegram")
    TelegramSession telegram(Optional<Caller> current, @RequestBody(required = false) byte[] body, HttpServletRequest req,
                             HttpServletResponse res) {
        if (identity.local()) {
            throw KilnException.conflict("KILN_AUTH=local has no logins: every local request is the implicit admin. Run with KILN_AUTH=on to use accounts.");
        }
        JsonNode n = RequestBodies.parse(body);
        String initData = n.isObject() && n.path("initData").isString() ? n.path("initData").asString() : null;
        if (initData == null) throw DotbaseException.badRequest("initData", "is required: the Telegram.WebApp.initData string");
        throttle.check(null, req.getRemoteAddr());
        TelegramLogin.Identity id;
        try {
            id = telegram.verify(initData);
        } catch (KilnException e) {
            if (e.code() == ErrorCode.UNAUTHORIZED) throttle.failed(null, req.getRemoteAddr());
            throw e;
        }
        User u = users.telegram(id);
        Credentials.Issued s = sessions.open(u.id(), current.orElse(null), Sessions.DEFAULT_COOKIE, req, res);
        return new TelegramSession(new TelegramUser(u.id(), u.telegramUsername(), id.firstName(),
                ledger.balance(u.id()).stripTrailingZeros()), s.secret());
    }

    /** The origin clients reached Kiln at, for absolute links (PUBLIC_BASE_URL wins when set). */
    private static String base() {
        return ServletUriComponentsBuilder.fromCurrentContextPath().build().toUriString();
    }

    private static int number(String field, String value, int def, int min, int max) {
        if (value == null || value.isBlank()) return def;
        try {
            int v = Integer.parseInt(value.strip());
            if (v >= min && v <= max) return v;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw DotbaseException.badRequest(field, "must be a whole number from " + min + " to " + max);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private KilnException tooLarge() {
        return new KilnException(ErrorCode.TOO_LARGE, "a webhook body may be at most " + maxWebhookBody + " bytes (KILN_WEBHOOK_MAX_BODY)");
    }
}

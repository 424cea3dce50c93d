package dev.kiln.api;

import dev.kiln.user.Sessions;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.stereotype.Component;

/**
 * The OpenAPI document's security and errors, from the same rules as {@link SecurityConfig}: the
 * four ways to say who is calling (session cookie, Bearer, {@code X-API-Key}, {@code x-admin-key})
 * as security schemes; which of them each operation needs (none for the open routes); and each
 * operation's 4xx answers, all in the one problem+json shape.
 */
@Component
class OpenApiSecurity implements OpenApiCustomizer {
    static final String COOKIE = "sessionCookie";
    static final String BEARER = "bearer";
    static final String API_KEY = "apiKey";
    static final String ADMIN_KEY = "adminKey";
    /** Seed APIs that answer errors in their own shape and declare those answers on their operations. */
    static final java.util.Set<String> OWN_ERROR_TAGS = java.util.Set.of("Seed API: .base");

    /** Summaries for operations whose controllers declare none. */
    private static final Map<String, String> SUMMARIES = Map.of(
            "POST /v1/assets", "Upload an input image (multipart field 'file')",
            "GET /v1/assets/{id}", "Download an asset (with credentials, or by a signed URL)",
            "GET /v1/assets/{id}/thumbnail", "Download an asset's thumbnail");

    private static final Map<String, String> ERRORS = new LinkedHashMap<>();

    static {
        ERRORS.put("400", "The body is not valid JSON (invalid_json)");
        ERRORS.put("401", "No valid credentials (unauthorized)");
        ERRORS.put("402", "The submission costs more credits than the balance; nothing was created (insufficient_credits)");
        ERRORS.put("403", "Not allowed: an admin route, or a cookie-authenticated write without its X-CSRF-Token (forbidden)");
        ERRORS.put("404", "No such resource, or another user's (not_found)");
        ERRORS.put("409", "Conflicts with the current state (conflict)");
        ERRORS.put("413", "The body is larger than allowed (too_large)");
        ERRORS.put("415", "The Content-Type is not accepted here (unsupported_media_type)");
        ERRORS.put("422", "A field is invalid; errors lists each (validation_failed)");
        ERRORS.put("429", "Too many attempts or submissions; see Retry-After (rate_limited)");
        ERRORS.put("503", "The model's lane is full or backed up; nothing was created; see Retry-After and user_action (queue_overloaded)");
    }

    @Override
    public void customise(OpenAPI api) {
        Components c = api.getComponents() == null ? new Components() : api.getComponents();
        api.setComponents(c);
        c.addSecuritySchemes(COOKIE, new SecurityScheme().type(SecurityScheme.Type.APIKEY).in(SecurityScheme.In.COOKIE)
                .name(Sessions.DEFAULT_COOKIE).description("The session cookie set by login (HttpOnly, SameSite=Lax, 24 h). "
                        + "Writes must also send the session's CSRF token in X-CSRF-Token."));
        c.addSecuritySchemes(BEARER, new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                .description("An API key or a session token: Authorization: Bearer <secret>."));
        c.addSecuritySchemes(API_KEY, new SecurityScheme().type(SecurityScheme.Type.APIKEY).in(SecurityScheme.In.HEADER)
                .name("X-API-Key").description("An API key or a session token, as a header."));
        c.addSecuritySchemes(ADMIN_KEY, new SecurityScheme().type(SecurityScheme.Type.APIKEY).in(SecurityScheme.In.HEADER)
                .name("x-admin-key").description("KILN_ADMIN_KEY: the admin, on any route."));
        c.addSchemas("Problem", problemSchema());
        ERRORS.forEach((code, text) -> c.addResponses("Problem" + code, new ApiResponse().description(text)
                .content(new Content().addMediaType("application/problem+json", new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem"))))));

        if (api.getPaths() == null) return;
        api.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, op) -> describe(path, method, op)));
    }

    private void describe(String path, PathItem.HttpMethod method, Operation op) {
        String key = method + " " + path;
        if (op.getSummary() == null && SUMMARIES.containsKey(key)) op.setSummary(SUMMARIES.get(key));
        Access access = access(method, path);
        List<SecurityRequirement> security = new ArrayList<>();
        switch (access) {
            case OPEN -> { }
            case OPTIONAL -> {
                security.add(new SecurityRequirement());
                security.addAll(callers());
            }
            case USER, ADMIN -> security.addAll(callers());
        }
        op.setSecurity(security);
        // Such a seed API's errors are not problem+json: its operations list their own.
        if (op.getTags() != null && op.getTags().stream().anyMatch(OWN_ERROR_TAGS::contains)) return;
        if (access == Access.ADMIN) {
            op.setDescription((op.getDescription() == null ? "" : op.getDescription() + " ") + "Admins only.");
        }

        List<String> codes = new ArrayList<>();
        boolean write = method == PathItem.HttpMethod.POST || method == PathItem.HttpMethod.DELETE
                || method == PathItem.HttpMethod.PUT || method == PathItem.HttpMethod.PATCH;
        boolean body = op.getRequestBody() != null;
        if (access == Access.USER || access == Access.ADMIN || path.equals("/v1/assets/{id}")) codes.add("401");
        if (access == Access.ADMIN || (access == Access.USER && write) || path.equals("/v1/auth/logout")) codes.add("403");
        if (path.contains("{")) codes.add("404");
        if (body) codes.addAll(List.of("400", "413", "415"));
        if (body || (op.getParameters() != null && !op.getParameters().isEmpty())) codes.add("422");
        if (path.equals("/v1/jobs") || path.equals("/v1/runs")) {
            if (method == PathItem.HttpMethod.POST) codes.addAll(List.of("402", "409", "429", "503"));
        }
        if (path.startsWith("/v1/auth/login") || path.startsWith("/v1/auth/telegram")) codes.addAll(List.of("409", "429"));
        if (path.startsWith("/v1/api-keys") || path.equals("/v1/admin/session") || path.equals("/v1/admin/users")) codes.add("409");
        if (path.startsWith("/webhooks/")) codes.add("401");
        ApiResponses responses = op.getResponses() == null ? new ApiResponses() : op.getResponses();
        op.setResponses(responses);
        for (String code : codes) {
            responses.computeIfAbsent(code, k -> new ApiResponse().$ref("#/components/responses/Problem" + k));
        }
    }

    private static List<SecurityRequirement> callers() {
        return List.of(new SecurityRequirement().addList(COOKIE), new SecurityRequirement().addList(BEARER),
                new SecurityRequirement().addList(API_KEY), new SecurityRequirement().addList(ADMIN_KEY));
    }

    /** Who may call an operation; mirrors {@link SecurityConfig}'s rules. */
    enum Access { OPEN, OPTIONAL, USER, ADMIN }

    static Access access(PathItem.HttpMethod method, String path) {
        if (path.startsWith("/v1/admin/") || path.equals("/v1/webhook-secret") || path.equals("/metrics")) return Access.ADMIN;
        if (path.startsWith("/health") || path.startsWith("/webhooks/") || path.startsWith("/v1/models")) return Access.OPEN;
        if (path.equals("/v1/auth/login") || path.equals("/v1/auth/telegram")) return Access.OPEN;
        // Seed .base: its model list, Telegram login and Replicate webhook (see SecurityConfig).
        if (path.equals("/api/models/list") || path.equals("/api/auth/telegram") || path.equals("/api/webhook/replicate")) return Access.OPEN;
        if (path.equals("/v1/auth/logout")) return Access.OPTIONAL;
        if (method == PathItem.HttpMethod.GET && path.equals("/v1/assets/{id}")) return Access.OPTIONAL;
        return Access.USER;
    }

    private static Schema<?> problemSchema() {
        ObjectSchema fieldError = new ObjectSchema();
        fieldError.addProperty("field", new StringSchema()).addProperty("message", new StringSchema());
        ObjectSchema p = new ObjectSchema();
        p.description("RFC 9457 problem details with Kiln's error code and one entry per bad field");
        p.addProperty("type", new StringSchema()).addProperty("title", new StringSchema()).addProperty("status", new IntegerSchema())
                .addProperty("detail", new StringSchema())
                .addProperty("code", new StringSchema()._enum(java.util.Arrays.stream(dev.kiln.support.ErrorCode.values())
                        .map(dev.kiln.support.ErrorCode::wire).toList()))
                .addProperty("errors", new ArraySchema().items(fieldError))
                .addProperty("user_action", new StringSchema().description("what the user can do (503, 402, 429)"));
        p.setRequired(List.of("type", "title", "status", "code"));
        return p;
    }
}

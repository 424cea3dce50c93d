package dev.kiln.compat;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.core.Ordered;

/**
 * Documents a seed façade's error body instead of Kiln's problem+json: on the façade's paths,
 * every 4xx and 5xx answer the document lists (Kiln's own, added for every route) refers to the
 * façade's schema, and those the façade always may give are listed. Runs after Kiln's own
 * description of the routes.
 *
 * @param name the schema's name, e.g. {@code RunPodError}
 * @param schema the façade's error body
 * @param paths which paths are the façade's
 * @param always the codes every operation of the façade may answer, with what they mean
 */
public record ErrorDocs(String name, Schema<?> schema, Predicate<String> paths, Map<String, String> always)
        implements OpenApiCustomizer, Ordered {

    @Override
    public void customise(OpenAPI api) {
        if (api.getPaths() == null) return;
        if (api.getComponents() != null) api.getComponents().addSchemas(name, schema);
        api.getPaths().forEach((path, item) -> {
            if (!paths.test(path)) return;
            item.readOperations().forEach(op -> {
                ApiResponses responses = op.getResponses() == null ? new ApiResponses() : op.getResponses();
                op.setResponses(responses);
                always.forEach((code, text) -> responses.putIfAbsent(code, new ApiResponse().description(text)));
                for (String code : List.copyOf(responses.keySet())) {
                    if (!(code.startsWith("4") || code.startsWith("5"))) continue;
                    ApiResponse old = responses.get(code);
                    String text = always.getOrDefault(code, old.getDescription() != null ? old.getDescription() : "Refused");
                    responses.put(code, new ApiResponse().description(text).content(new Content().addMediaType("application/json",
                            new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + name)))));
                }
            });
        });
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}

package dev.kiln.compat.vibewave;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.compat.ErrorDocs;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.StringSchema;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Vibewave's error body in the OpenAPI document: {@code {"detail": "…"}}, on its workflow and Qwen paths. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnCompat("004")
class VibewaveApiDocs {
    static final List<String> PATHS = List.of("/api/runpod/workflows", "/api/runpod/generate-", "/api/qwen/");

    @Bean
    ErrorDocs vibewaveErrorDocs() {
        ObjectSchema s = new ObjectSchema();
        s.description("FastAPI's error body");
        s.addProperty("detail", new StringSchema().description("what was wrong"));
        s.setRequired(List.of("detail"));
        Map<String, String> always = new LinkedHashMap<>();
        always.put("400", "Invalid workflow input parameters");
        always.put("500", "Internal server error");
        return new ErrorDocs("VibewaveError", s, p -> PATHS.stream().anyMatch(p::startsWith), always);
    }
}

package dev.kiln.compat.wavespeedbatch;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.compat.ErrorDocs;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.StringSchema;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The batch generator's error body in the OpenAPI document: {@code {"error": "…", "details": "…"}} ({@link SeedErrors}). */
@Configuration(proxyBeanMethods = false)
@ConditionalOnCompat("000")
class BatchApiDocs {
    @Bean
    ErrorDocs waveSpeedBatchErrorDocs() {
        ObjectSchema s = new ObjectSchema();
        s.description("The WaveSpeed batch generator's error: {\"error\": \"Missing required fields\"}, {\"error\": \"Failed to fetch image: <url>\"}, …");
        s.addProperty("error", new StringSchema().description("what was wrong"));
        s.addProperty("details", new StringSchema().description("more about it, where there is more to say"));
        Map<String, String> always = new LinkedHashMap<>();
        always.put("400", "Missing required fields, or batchCount, width or height out of range");
        always.put("500", "Failed to fetch image: an input image could not be fetched or read (nothing was queued)");
        return new ErrorDocs("WaveSpeedBatchError", s, p -> p.equals("/api/batch"), always);
    }
}

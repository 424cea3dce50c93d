package dev.kiln.compat.runpodworker;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.compat.ErrorDocs;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.StringSchema;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The RunPod worker format's error body in the OpenAPI document: {@code {"error"}} (or the handler's {@code {"status":"error","message"}} at the root). */
@Configuration(proxyBeanMethods = false)
@ConditionalOnCompat("001")
class WorkerApiDocs {
    @Bean
    ErrorDocs runPodWorkerErrorDocs() {
        ObjectSchema s = new ObjectSchema();
        s.description("Under /v2: RunPod's {\"error\": \"…\"}. At /run, /runsync: the handler's {\"status\":\"error\",\"message\":\"…\"}.");
        s.addProperty("error", new StringSchema().description("what was wrong (/v2 routes)"));
        s.addProperty("status", new StringSchema().description("\"error\" (root routes)"));
        s.addProperty("message", new StringSchema().description("what was wrong (root routes)"));
        Map<String, String> always = new LinkedHashMap<>();
        always.put("400", "A bad body or input (worker-comfyui's messages), or a workflow no backend of the pool can run");
        always.put("401", "No valid Kiln API key");
        return new ErrorDocs("RunPodError", s, p -> p.startsWith("/v2/{endpoint}/") || p.equals("/run") || p.equals("/runsync"), always);
    }
}

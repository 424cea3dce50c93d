package dev.kiln.cli;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

/**
 * The parts of Kiln's API answers the CLI reads (snake_case JSON, as the server writes it). Fields
 * the CLI does not use are ignored, so a newer server with more fields still works.
 */
final class Wire {
    static final JsonMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    static final Set<String> TERMINAL = Set.of("succeeded", "failed", "canceled", "timed_out");

    private Wire() {}

    record Output(String assetId, String url, String mime, Integer width, Integer height, long size, String sha256) {}

    record JobError(String code, String message) {}

    record Job(String id, String runId, String model, String mode, String provider, String status, double progress,
               Integer queuePosition, String prompt, String negativePrompt, JsonNode params, JsonNode gridCell,
               int attempts, List<Output> outputs, JobError error, BigDecimal cost, Integer etaSeconds,
               Instant createdAt, Instant startedAt, Instant finishedAt) {
        Job {
            outputs = outputs == null ? List.of() : List.copyOf(outputs);
        }

        boolean terminal() {
            return TERMINAL.contains(status);
        }

        /** The seed the job really used (the server replaces -1 by the random one), or null. */
        Long seed() {
            JsonNode s = params == null ? null : params.get("seed");
            return s != null && s.isIntegralNumber() ? s.asLong() : null;
        }
    }

    record Run(String id, String model, String mode, String status, int total, Map<String, Integer> counts,
               List<Job> jobs, BigDecimal cost, Instant createdAt, Instant finishedAt, double elapsedSeconds) {
        Run {
            jobs = jobs == null ? List.of() : List.copyOf(jobs);
            counts = counts == null ? Map.of() : Map.copyOf(counts);
        }

        int count(String status) {
            return counts.getOrDefault(status, 0);
        }
    }

    record Page<T>(List<T> items, String nextCursor) {}

    record ImageInput(String name, Integer min, Integer max) {}

    record Mode(String id, List<ImageInput> images, String prompt) {}

    record Param(String name, String type, @JsonProperty("default") JsonNode defaultValue, Double min, Double max,
                 @JsonProperty("enum") List<JsonNode> enumValues, JsonNode locked, boolean required, List<String> modes,
                 String help) {}

    record Rule(String expression, String unit, String per, String help, @JsonProperty("default") Double defaultValue) {}

    record Binding(String provider, String remote, boolean available) {}

    record Model(String id, String name, String kind, String description, List<String> actions, List<Mode> modes,
                 List<Param> params, Rule cost, Rule eta, Long timeoutSeconds, List<Binding> bindings) {
        Model {
            actions = actions == null ? List.of() : actions;
            modes = modes == null ? List.of() : modes;
            params = params == null ? List.of() : params;
            bindings = bindings == null ? List.of() : bindings;
        }

        Param param(String name) {
            return params.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
        }
    }

    record Models(List<Model> items) {}
}

package dev.kiln.run;

import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * One row of the {@code runs} table: a submission that became jobs. Its status derives from them.
 *
 * @param request the request as its API received it (a {@code /v1} body, or a façade's own)
 * @param origin the API that created it: {@code v1}, or a seed façade's id ({@code 000}…)
 */
public record Run(String id, String ownerId, String model, String mode, int total, JsonNode request, Instant createdAt, String origin) {
    public Run(String id, String ownerId, String model, String mode, int total, JsonNode request, Instant createdAt) {
        this(id, ownerId, model, mode, total, request, createdAt, "v1");
    }
}

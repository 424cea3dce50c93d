package dev.kiln.run;

import java.time.Instant;
import tools.jackson.databind.JsonNode;

/** One row of the {@code runs} table: a submission that became jobs. Its status derives from them. */
public record Run(String id, String ownerId, String model, String mode, int total, JsonNode request, Instant createdAt) {}

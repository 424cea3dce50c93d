package dev.kiln.asset;

import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * A stored file Kiln knows about (one row of {@code assets}): an output of a job or an input image
 * a client sent. The bytes live under {@link #sha256()}; several assets may share them.
 *
 * @param role           {@link #ROLE_INPUT} or {@link #ROLE_OUTPUT}
 * @param jobId          the job an output belongs to; null for inputs
 * @param outputIndex    the output's position among its job's outputs; null for inputs
 * @param width          pixels, null where unknown (videos until they are probed)
 * @param frames         video only, null where unknown
 * @param thumbSha256    the thumbnail's hash (equal to {@code sha256} when the image is small
 *                       enough to be its own thumbnail), or null if there is none
 * @param sandbox        made by a sandbox emulator, not a real provider
 * @param metadata       generation metadata (model, prompt, parameters, ...), or null
 */
public record Asset(
        String id, String ownerId, String role, String jobId, Integer outputIndex,
        String sha256, String mime, long size, Integer width, Integer height,
        Integer frames, Double fps, Long durationMs, String thumbSha256, String thumbMime,
        boolean sandbox, JsonNode metadata, Instant createdAt) {

    public static final String ROLE_INPUT = "input";
    public static final String ROLE_OUTPUT = "output";

    public boolean isImage() {
        return mime.startsWith("image/");
    }

    public boolean hasThumbnail() {
        return thumbSha256 != null;
    }
}

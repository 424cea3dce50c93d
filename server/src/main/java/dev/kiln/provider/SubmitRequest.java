package dev.kiln.provider;

import dev.kiln.catalog.Templates;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;

/**
 * One generation to send: the model's binding for the job's mode, resolved into the provider's
 * remote model name and an input template whose placeholders Kiln fills (see {@link Templates}).
 *
 * @param jobId Kiln's job id; adapters may pass it to the provider as metadata
 * @param attempt 1 for the first submission of the job
 * @param remote the provider's model name (or endpoint path) for this mode
 * @param input the binding's input template, placeholders not yet filled
 * @param values every value a template may name: prompt, negative_prompt, mode, params
 * @param images input images by input name
 * @param webhookUrl where the provider should call back, or null to rely on polling
 * @param deadline when Kiln will time the job out
 * @param eta expected duration of the generation
 */
public record SubmitRequest(
        String jobId, int attempt, String model, String mode, String kind, String remote,
        JsonNode input, Map<String, Object> values, Map<String, List<InputImage>> images,
        String webhookUrl, Instant deadline, Duration eta) {

    public SubmitRequest {
        // Values may be null (no negative prompt): templates drop those fields.
        values = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(values));
        images = Map.copyOf(images);
    }

    /** Fills the input template; each input image becomes what {@code imageMapper} returns. */
    public JsonNode renderInput(Function<InputImage, JsonNode> imageMapper) {
        return Templates.render(input, values, images, imageMapper);
    }

    /** The placeholders the input template names ({@code prompt}, {@code images.reference_image[0]}, …), in order. */
    public List<String> placeholders() {
        return Templates.placeholders(input);
    }
}

package dev.kiln.job;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A generation request as the core takes it, typed: what {@code /v1}'s JSON and every seed
 * façade translate into. Nothing here is checked yet; {@link JobRequest#check} checks all of it
 * against the catalogue, reporting each problem under the {@code /v1} field name
 * ({@code prompt}, {@code params.width}, {@code images.reference[0]}, …), which a façade maps to
 * its own names.
 *
 * @param model a catalogue model id
 * @param mode one of the model's modes, or null for the first mode the images fit
 * @param prompts one prompt for a job; several for a run (each becomes prompts × count × grid jobs)
 * @param params parameter values as plain Java values (numbers, strings, booleans, maps and lists
 *     for object parameters); missing ones get the model's defaults
 * @param images image input name → references ({@code https://…}, {@code data:image/…;base64,…},
 *     {@code asset:<id>})
 * @param grid parameter → the values to try, for a run
 * @param origin which API created it: {@code v1}, or the façade's id (e.g. {@code 000}); objects
 *     are rendered in the shape of the API that created them
 */
public record GenerationRequest(
        String model, String mode, List<String> prompts, String negativePrompt, Map<String, Object> params,
        Map<String, List<String>> images, int priority, ClientWebhook webhook, int count,
        Map<String, List<Object>> grid, String origin) {

    /** The API a request came from when nobody says otherwise. */
    public static final String V1 = "v1";

    /** Where to tell the client about its jobs ({@code webhook} of {@code /v1}). */
    public record ClientWebhook(String url, List<String> events) {
        public ClientWebhook {
            events = events == null ? List.of() : List.copyOf(events);
        }
    }

    public GenerationRequest {
        prompts = prompts == null ? List.of() : List.copyOf(prompts);
        params = params == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
        images = images == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(images));
        grid = grid == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(grid));
        origin = origin == null || origin.isBlank() ? V1 : origin;
    }

    /** A builder for a request of {@code model}. */
    public static Builder of(String model) {
        return new Builder(model);
    }

    /** Builds a request step by step; what is never set keeps the model's defaults. */
    public static final class Builder {
        private final String model;
        private String mode;
        private final List<String> prompts = new ArrayList<>();
        private String negativePrompt;
        private final Map<String, Object> params = new LinkedHashMap<>();
        private final Map<String, List<String>> images = new LinkedHashMap<>();
        private int priority;
        private ClientWebhook webhook;
        private int count = 1;
        private final Map<String, List<Object>> grid = new LinkedHashMap<>();
        private String origin = V1;

        private Builder(String model) {
            this.model = model;
        }

        public Builder mode(String mode) {
            this.mode = mode;
            return this;
        }

        public Builder prompt(String prompt) {
            if (prompt != null) prompts.add(prompt);
            return this;
        }

        public Builder prompts(List<String> list) {
            prompts.addAll(list);
            return this;
        }

        public Builder negativePrompt(String negative) {
            this.negativePrompt = negative;
            return this;
        }

        /** Sets a parameter; a null value leaves it to the model's default. */
        public Builder param(String name, Object value) {
            if (value != null) params.put(name, value);
            return this;
        }

        public Builder params(Map<String, ?> values) {
            values.forEach(this::param);
            return this;
        }

        /** Adds one image reference to an image input. */
        public Builder image(String input, String ref) {
            images.computeIfAbsent(input, k -> new ArrayList<>()).add(Objects.requireNonNull(ref, "image reference"));
            return this;
        }

        public Builder priority(int priority) {
            this.priority = priority;
            return this;
        }

        public Builder webhook(ClientWebhook webhook) {
            this.webhook = webhook;
            return this;
        }

        public Builder count(int count) {
            this.count = count;
            return this;
        }

        public Builder grid(String param, List<?> values) {
            grid.put(param, new ArrayList<>(values));
            return this;
        }

        public Builder origin(String origin) {
            this.origin = origin;
            return this;
        }

        public GenerationRequest build() {
            return new GenerationRequest(model, mode, prompts, negativePrompt, params, images, priority, webhook, count, grid, origin);
        }
    }
}

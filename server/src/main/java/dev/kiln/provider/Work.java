package dev.kiln.provider;

import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;

/**
 * What a job will send, as far as choosing an account needs it: the model, mode and kind, and the
 * binding's input template filled with the job's values, input images standing as their input
 * names (nothing is uploaded yet). The input is rendered on first use, as only some providers look.
 */
public final class Work {
    private final String model;
    private final String mode;
    private final String kind;
    private final Supplier<JsonNode> render;
    private JsonNode input;

    public Work(String model, String mode, String kind, Supplier<JsonNode> render) {
        this.model = model;
        this.mode = mode;
        this.kind = kind;
        this.render = render;
    }

    public String model() { return model; }
    public String mode() { return mode; }
    public String kind() { return kind; }

    /**
     * The filled input template (for ComfyUI providers, the API-format workflow); a missing node
     * when it cannot be filled (nothing can then be judged).
     */
    public synchronized JsonNode input() {
        if (input == null) {
            JsonNode r = render.get();
            input = r == null ? MissingNode.getInstance() : r;
        }
        return input;
    }
}

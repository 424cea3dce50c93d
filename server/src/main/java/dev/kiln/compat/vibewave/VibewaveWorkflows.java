package dev.kiln.compat.vibewave;

import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.compat.ConditionalOnCompat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Vibewave's workflow names and the catalogue models they run: {@code comfyui_image_qwen} is
 * {@code qwen-image} (its Qwen endpoints use it too); {@code KILN_VIBEWAVE_WORKFLOWS=name=model,…}
 * adds others. A name whose model is not in the catalogue stops Kiln at start-up.
 */
@Component
@ConditionalOnCompat("004")
class VibewaveWorkflows {
    static final String QWEN = "comfyui_image_qwen";
    static final String QWEN_MODEL = "qwen-image";
    static final String PROPERTY = "kiln.vibewave-workflows";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

    private final Map<String, Model> byName = new LinkedHashMap<>();

    VibewaveWorkflows(Environment env, Catalog catalog) {
        Map<String, String> wanted = new LinkedHashMap<>();
        wanted.put(QWEN, QWEN_MODEL);
        String value = env.getProperty(PROPERTY, "");
        for (String part : value.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            int eq = p.indexOf('=');
            String name = eq < 0 ? "" : p.substring(0, eq).strip();
            String model = eq < 0 ? "" : p.substring(eq + 1).strip();
            if (!NAME.matcher(name).matches() || model.isEmpty()) {
                throw new IllegalStateException("KILN_VIBEWAVE_WORKFLOWS: '" + p + "' is not workflow_name=model");
            }
            wanted.put(name, model);
        }
        wanted.forEach((name, modelId) -> byName.put(name, catalog.find(modelId).orElseThrow(() -> new IllegalStateException(
                "KILN_VIBEWAVE_WORKFLOWS: workflow '" + name + "' names model '" + modelId + "', which is not in the catalogue"))));
    }

    Optional<Model> model(String workflowName) {
        return Optional.ofNullable(byName.get(workflowName));
    }

    Model qwen() {
        return byName.get(QWEN);
    }

    /** The workflow name a job's model is known by (the first that names it), else the model id. */
    String nameOf(String modelId) {
        return byName.entrySet().stream().filter(e -> e.getValue().id().equals(modelId)).map(Map.Entry::getKey).findFirst().orElse(modelId);
    }

    java.util.Set<String> names() {
        return byName.keySet();
    }
}

package dev.kiln.compat.runpodworker;

import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.ModeSpec;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.catalog.ParamType;
import dev.kiln.compat.ConditionalOnCompat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The RunPod endpoint ids Kiln answers under {@code /v2/{endpoint}/…}: each names one of Kiln's
 * ComfyUI backend pools, i.e. a catalogue model that runs a client's raw workflow (a
 * {@code workflow} object parameter and images under any file name) on the accounts its bindings
 * name. {@code KILN_RUNPOD_ENDPOINTS=name=model,…} adds or changes them; {@code default} is always
 * there ({@code comfyui-workflow}: every ComfyUI server and RunPod worker-comfyui account). Two
 * endpoints never share a model, so a job's model says which endpoint it belongs to; a misnamed
 * or unsuitable model stops Kiln at start-up.
 */
@Component
@ConditionalOnCompat("001")
class WorkerEndpoints {
    static final String DEFAULT = "default";
    static final String DEFAULT_MODEL = "comfyui-workflow";
    static final String PROPERTY = "kiln.runpod-endpoints";
    /** RunPod endpoint ids: letters, digits, '-' and '_'. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,128}");

    private final Map<String, Model> byName = new LinkedHashMap<>();

    WorkerEndpoints(Environment env, Catalog catalog) {
        Map<String, String> wanted = new LinkedHashMap<>();
        wanted.put(DEFAULT, DEFAULT_MODEL);
        wanted.putAll(parse(env.getProperty(PROPERTY, "")));
        Map<String, String> seen = new LinkedHashMap<>();
        wanted.forEach((name, modelId) -> {
            Model m = catalog.find(modelId).orElseThrow(() -> new IllegalStateException(
                    "KILN_RUNPOD_ENDPOINTS: endpoint '" + name + "' names model '" + modelId + "', which is not in the catalogue"));
            String why = unsuitable(m);
            if (why != null) throw new IllegalStateException("KILN_RUNPOD_ENDPOINTS: endpoint '" + name + "' cannot use model '" + modelId + "': " + why);
            String other = seen.putIfAbsent(modelId, name);
            if (other != null) {
                throw new IllegalStateException("KILN_RUNPOD_ENDPOINTS: endpoints '" + other + "' and '" + name + "' both name model '"
                        + modelId + "'; give each endpoint its own model (a copy of comfyui-workflow bound to other accounts)");
            }
            byName.put(name, m);
        });
    }

    /** {@code "default=comfyui-workflow, gpu=my-workflow"} → its pairs, in order. */
    static Map<String, String> parse(String value) {
        Map<String, String> out = new LinkedHashMap<>();
        if (value == null || value.isBlank()) return out;
        for (String part : value.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            int eq = p.indexOf('=');
            String name = eq < 0 ? "" : p.substring(0, eq).strip();
            String model = eq < 0 ? "" : p.substring(eq + 1).strip();
            if (!NAME.matcher(name).matches() || model.isEmpty()) {
                throw new IllegalStateException("KILN_RUNPOD_ENDPOINTS: '" + p + "' is not name=model (names: letters, digits, '-', '_')");
            }
            out.put(name, model);
        }
        return out;
    }

    /** Why a model cannot serve as a worker-comfyui endpoint, or null. */
    static String unsuitable(Model m) {
        ParamSpec w = m.param("workflow");
        if (w == null || w.type() != ParamType.OBJECT) return "it has no 'workflow' object parameter";
        if (workflowMode(m) == null) return "none of its modes takes images under any file name (images: [{name: \"*\"}])";
        return null;
    }

    /** The mode that takes a raw workflow with named images. */
    static ModeSpec workflowMode(Model m) {
        return m.modes().stream().filter(ModeSpec::anyNames).findFirst().orElse(null);
    }

    Optional<Model> model(String endpoint) {
        return Optional.ofNullable(endpoint == null ? null : byName.get(endpoint));
    }

    /** The endpoint whose model this is, or null. */
    String endpointOf(String modelId) {
        return byName.entrySet().stream().filter(e -> e.getValue().id().equals(modelId)).map(Map.Entry::getKey).findFirst().orElse(null);
    }

    Map<String, Model> all() {
        return Map.copyOf(byName);
    }
}

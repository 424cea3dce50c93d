package dev.kiln.compat.dotbase;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.kiln.account.AccountPool;
import dev.kiln.catalog.Binding;
import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.ImageInputSpec;
import dev.kiln.catalog.ModeSpec;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.catalog.ParamType;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.job.JobService;
import dev.kiln.support.Json;
import java.math.BigDecimal;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * Kiln's catalogue as {@code .base} lists it: one entry per model and action ({@code create},
 * {@code edit}, {@code upscale}, {@code remove_bg}), each action being one of the model's modes,
 * and the settings a form needs generated from the model's parameter schema.
 */
@Component
@ConditionalOnCompat("002")
class DotbaseCatalog {
    static final List<String> ACTIONS = List.of("create", "edit", "upscale", "remove_bg");
    /** Integer ranges wider than this are typed in (a seed), narrower ones slid. */
    private static final double SLIDER_SPAN = 1000;

    private final Catalog catalog;
    private final AccountPool pool;
    private final JobService jobs;

    DotbaseCatalog(Catalog catalog, AccountPool pool, JobService jobs) {
        this.catalog = catalog;
        this.pool = pool;
        this.jobs = jobs;
    }

    /** One model for one action, as {@code GET /api/models/list} shows it. */
    record ModelEntry(
            @JsonProperty("id") String id,
            @JsonProperty("name") String name,
            @JsonProperty("displayName") String displayName,
            @JsonProperty("replicateModel") String replicateModel,
            @JsonProperty("action") String action,
            @JsonProperty("runs") String runs,
            @JsonProperty("description") String description,
            @JsonProperty("settings") List<Setting> settings) {}

    /**
     * One form field. {@code type} is the seed's UI word: {@code textarea}, {@code select},
     * {@code slider}, {@code number} or {@code switch}.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Setting(
            @JsonProperty("name") String name,
            @JsonProperty("label") String label,
            @JsonProperty("type") String type,
            @JsonProperty("required") boolean required,
            @JsonProperty("default") Object defaultValue,
            @JsonProperty("options") List<Object> options,
            @JsonProperty("min") Number min,
            @JsonProperty("max") Number max,
            @JsonProperty("step") Number step,
            @JsonProperty("description") String description) {}

    /** The models some account can run, for one action or (null) all, in catalogue order. */
    List<ModelEntry> list(String action) {
        Map<String, Long> runs = jobs.countByModel();
        List<ModelEntry> out = new ArrayList<>();
        for (Model m : catalog.all()) {
            if (!listable(m)) continue;
            for (String a : m.actions()) {
                if (action != null && !action.equals(a)) continue;
                ModeSpec mode = modeFor(m, a);
                if (mode == null) continue;
                out.add(new ModelEntry(m.id(), m.id(), m.name(), replicateModel(m, mode), a, runs(runs.getOrDefault(m.id(), 0L)),
                        m.description(), settings(m, mode)));
            }
        }
        return out;
    }

    Model find(String id) {
        return catalog.find(id).orElse(null);
    }

    /**
     * Whether {@code .base} can offer the model: some account can run it, and its form can be
     * filled (no required parameter is a JSON object, such as a raw ComfyUI workflow).
     */
    boolean listable(Model m) {
        if (m.bindings().stream().map(Binding::provider).noneMatch(pool::serves)) return false;
        return m.params().stream().noneMatch(p -> p.required() && p.type() == ParamType.OBJECT && p.locked() == null);
    }

    /**
     * The mode an action runs: {@code create} the first mode that needs no image; any other action
     * the mode of that name, else the first mode that takes exactly one image input, and needs it.
     * Null when the model does not do the action.
     */
    static ModeSpec modeFor(Model m, String action) {
        if (!m.actions().contains(action)) return null;
        if (action.equals("create")) {
            return m.modes().stream().filter(md -> md.images().stream().allMatch(i -> i.min() == 0)).findFirst().orElse(null);
        }
        ModeSpec named = m.mode(action);
        if (named != null) return named;
        return m.modes().stream().filter(md -> md.images().size() == 1 && md.images().getFirst().min() >= 1
                && !md.images().getFirst().name().equals(ModeSpec.ANY_NAME)).findFirst().orElse(null);
    }

    /** The action a job of this model and mode was for (the mode's name when the catalogue changed since). */
    String actionOf(String modelId, String mode) {
        Model m = find(modelId);
        if (m != null) {
            for (String a : m.actions()) {
                ModeSpec s = modeFor(m, a);
                if (s != null && s.id().equals(mode)) return a;
            }
        }
        return mode;
    }

    /** The (model, mode) pairs an action runs, for the list filter. */
    List<Map.Entry<String, String>> modesOf(String action) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (Model m : catalog.all()) {
            ModeSpec s = modeFor(m, action);
            if (s != null) out.add(new AbstractMap.SimpleImmutableEntry<>(m.id(), s.id()));
        }
        return out;
    }

    /** The image input {@code input_image_url} fills: the mode's first one, or null when it takes none. */
    static ImageInputSpec imageInput(ModeSpec mode) {
        return mode.images().stream().filter(i -> !i.name().equals(ModeSpec.ANY_NAME)).findFirst().orElse(null);
    }

    /** The Replicate model behind it ({@code owner/name}, without a version), or null when it runs elsewhere. */
    private static String replicateModel(Model m, ModeSpec mode) {
        return m.bindings().stream().filter(b -> b.provider().equals("replicate")).findFirst()
                .map(b -> {
                    String remote = b.remoteFor(mode.id());
                    int colon = remote.indexOf(':');
                    return colon > 0 ? remote.substring(0, colon) : remote;
                }).orElse(null);
    }

    /** Replicate's way of counting: "12 runs", "1.2k runs", "541.6m runs" (here: the jobs Kiln holds for the model). */
    static String runs(long n) {
        if (n == 1) return "1 run";
        if (n < 1000) return n + " runs";
        String[] units = {"k", "m", "b"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        String num = BigDecimal.valueOf(v).setScale(1, java.math.RoundingMode.DOWN).stripTrailingZeros().toPlainString();
        return num + units[u] + " runs";
    }

    private static List<Setting> settings(Model m, ModeSpec mode) {
        List<Setting> out = new ArrayList<>();
        if (mode.promptRequired()) out.add(new Setting("prompt", "Prompt", "textarea", true, null, null, null, null, null, null));
        if (usesNegativePrompt(m, mode)) {
            out.add(new Setting("negative_prompt", "Negative Prompt", "textarea", false, null, null, null, null, null,
                    "What the image should not show"));
        }
        for (ParamSpec p : m.params()) {
            if (!p.appliesTo(mode.id()) || p.locked() != null || p.type() == ParamType.OBJECT) continue;
            out.add(setting(p, mode));
        }
        return out;
    }

    private static boolean usesNegativePrompt(Model m, ModeSpec mode) {
        for (Binding b : m.bindings()) {
            if (Json.write(b.inputFor(mode.id())).contains("negative_prompt") || b.derive().values().stream().anyMatch(d -> d.contains("negative_prompt"))) {
                return true;
            }
        }
        return false;
    }

    private static Setting setting(ParamSpec p, ModeSpec mode) {
        Object def = p.defaultFor(mode.id());
        String label = label(p.name());
        return switch (p.type()) {
            case BOOLEAN -> new Setting(p.name(), label, "switch", p.required(), def, null, null, null, null, p.help());
            case STRING -> p.enumValues().isEmpty()
                    ? new Setting(p.name(), label, "textarea", p.required(), def, null, null, null, null, p.help())
                    : new Setting(p.name(), label, "select", p.required(), def, p.enumValues(), null, null, null, p.help());
            case INTEGER, NUMBER -> {
                boolean integer = p.type() == ParamType.INTEGER;
                Number min = p.min() == null ? null : integer ? (Number) p.min().longValue() : p.min();
                Number max = p.max() == null ? null : integer ? (Number) p.max().longValue() : p.max();
                if (!p.enumValues().isEmpty()) {
                    yield new Setting(p.name(), label, "select", p.required(), def, p.enumValues(), null, null, null, p.help());
                }
                boolean slider = p.min() != null && p.max() != null && (!integer || p.max() - p.min() <= SLIDER_SPAN);
                Number step = integer ? (p.step() != null ? p.step().multiple() : 1) : slider ? step(p.max() - p.min()) : null;
                yield new Setting(p.name(), label, slider ? "slider" : "number", p.required(), def, null, min, max, step, p.help());
            }
            case OBJECT -> throw new IllegalArgumentException("object parameters have no form field");
        };
    }

    /** A slider step giving about a hundred positions: 0.01 for 0–1, 0.1 for 0–10. */
    private static Number step(double span) {
        if (span <= 0) return 0.01;
        return BigDecimal.ONE.movePointLeft(2 - (int) Math.floor(Math.log10(span))).stripTrailingZeros().doubleValue();
    }

    /** {@code aspect_ratio} → "Aspect Ratio". */
    static String label(String name) {
        StringBuilder b = new StringBuilder();
        for (String w : name.split("[_\\s]+")) {
            if (w.isEmpty()) continue;
            if (!b.isEmpty()) b.append(' ');
            b.append(w.substring(0, 1).toUpperCase(Locale.ROOT)).append(w.substring(1));
        }
        return b.toString();
    }
}

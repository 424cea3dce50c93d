package dev.kiln.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.kiln.account.AccountPool;
import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.ImageInputSpec;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.catalog.Rule;
import dev.kiln.catalog.Rules;
import dev.kiln.config.KilnProperties;
import dev.kiln.support.KilnException;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The catalogue as clients see it: enough to build a valid request for any model and mode. */
@Tag(name = "Models", description = "The model catalogue")
@RestController
@RequestMapping("/v1/models")
class ModelController {
    private final Catalog catalog;
    private final AccountPool pool;
    private final KilnProperties props;

    ModelController(Catalog catalog, AccountPool pool, KilnProperties props) {
        this.catalog = catalog;
        this.pool = pool;
        this.props = props;
    }

    record ModeView(String id, List<ImageInputSpec> images, String prompt) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ParamView(String name, String type, Object defaultValue, Double min, Double max, List<Object> enumValues,
                     Object locked, boolean required, List<String> modes, String help) {
        @com.fasterxml.jackson.annotation.JsonProperty("default")
        @JsonInclude(JsonInclude.Include.ALWAYS)
        public Object defaultValue() { return defaultValue; }

        @com.fasterxml.jackson.annotation.JsonProperty("enum")
        public List<Object> enumValues() { return enumValues; }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RuleView(String expression, String unit, String per, String help, Double defaultValue) {
        @com.fasterxml.jackson.annotation.JsonProperty("default")
        public Double defaultValue() { return defaultValue; }
    }

    record BindingView(String provider, String remote, Map<String, String> modes, boolean available) {}

    record ModelView(String id, String name, String kind, String description, List<String> actions, List<ModeView> modes,
                     List<ParamView> params, RuleView cost, RuleView eta, Long timeoutSeconds, List<BindingView> bindings,
                     Map<String, Model.Preset> presets, List<String> examples) {}

    @Operation(summary = "List models", description = "Filter by kind (image, video) and action (create, edit, upscale, remove_bg).")
    @GetMapping
    Map<String, List<ModelView>> list(@RequestParam(required = false) String kind, @RequestParam(required = false) String action) {
        return Map.of("items", catalog.filter(kind, action).stream().map(this::view).toList());
    }

    @Operation(summary = "Get a model: schema, defaults, locked values, modes, cost and ETA")
    @GetMapping("/{id}")
    ModelView get(@PathVariable String id) {
        return view(catalog.find(id).orElseThrow(() -> KilnException.notFound("model", id)));
    }

    private ModelView view(Model m) {
        Map<String, Object> defaults = new LinkedHashMap<>();
        m.params().stream().filter(p -> p.appliesTo(m.defaultMode().id())).forEach(p -> defaults.put(p.name(), p.defaultValue()));
        defaults.put("sandbox_latency", props.sandboxLatency().toMillis() / 1000.0);
        return new ModelView(m.id(), m.name(), m.kind(), m.description(), m.actions(),
                m.modes().stream().map(x -> new ModeView(x.id(), x.images(), x.promptRequired() ? "required" : "optional")).toList(),
                m.params().stream().map(ModelController::param).toList(),
                rule(m.cost(), defaults), rule(m.eta(), defaults),
                m.timeout() == null ? props.jobTimeout().toSeconds() : m.timeout().toSeconds(),
                m.bindings().stream().map(b -> {
                    Map<String, String> modes = new LinkedHashMap<>();
                    m.modes().forEach(x -> modes.put(x.id(), b.remoteFor(x.id())));
                    return new BindingView(b.provider(), b.remote(), modes, pool.serves(b.provider()));
                }).toList(), m.presets(), m.examples());
    }

    private static ParamView param(ParamSpec p) {
        return new ParamView(p.name(), p.type().wire(), p.defaultValue(), p.min(), p.max(), p.enumValues().isEmpty() ? null : p.enumValues(),
                p.locked(), p.required(), p.modes().isEmpty() ? null : p.modes(), p.help());
    }

    private static RuleView rule(Rule r, Map<String, Object> defaults) {
        if (r == null) return null;
        Double value;
        try {
            value = Rules.evaluate(r, defaults);
        } catch (RuntimeException e) {
            value = null;
        }
        return new RuleView(r.expression(), r.unit(), r.per(), r.help(), value);
    }
}

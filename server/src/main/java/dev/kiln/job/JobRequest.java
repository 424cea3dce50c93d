package dev.kiln.job;

import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.ImageInputSpec;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ModeSpec;
import dev.kiln.catalog.ParamResolver;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * A job or run request, checked against the catalogue in one pass that collects every bad field.
 * Requests arrive typed ({@link GenerationRequest}, from {@code /v1}'s JSON by {@link #parse} or
 * from a seed façade); {@link #check} is the one place they are checked. Image references are only
 * checked for shape here; their content is checked when they are fetched and stored.
 *
 * @param params resolved parameters (defaults, locks), seed not yet randomised
 * @param prompts one entry for a job; the list of prompts for a run
 * @param grid parameter name → its values, already checked; empty when no grid
 * @param origin the API that made the request ({@link GenerationRequest#origin})
 */
public record JobRequest(
        Model model, String mode, List<String> prompts, String negativePrompt, Map<String, Object> params,
        Map<String, List<String>> images, int priority, JsonNode callback, int count, Map<String, List<Object>> grid,
        String origin) {

    static final Set<String> JOB_FIELDS = new LinkedHashSet<>(List.of("model", "mode", "prompt", "negative_prompt", "params",
            "images", "priority", "webhook"));
    static final Set<String> RUN_FIELDS;
    static {
        Set<String> s = new LinkedHashSet<>(JOB_FIELDS);
        s.addAll(List.of("prompts", "count", "grid"));
        RUN_FIELDS = s;
    }
    static final int MAX_PROMPT = 20_000;
    static final int MAX_PROMPTS = 10_000;
    static final List<String> STATUS_EVENTS = List.of("queued", "running", "succeeded", "failed", "canceled", "timed_out");

    /**
     * Parses a {@code /v1} request body and checks it, adding every problem to {@code errors}.
     * Returns null only when the model or mode is unknown; otherwise a request (possibly with
     * errors) whose image references have the right shape, so their content can be checked in the
     * same pass.
     */
    public static JobRequest parse(JsonNode body, boolean run, Catalog catalog, List<FieldError> errors) {
        GenerationRequest g = fromJson(body, run, errors);
        return g == null ? null : check(g, run, catalog, errors);
    }

    /**
     * The typed request a {@code /v1} body holds. Only the JSON's shape is checked here (types,
     * unknown fields); what the values mean is {@link #check}'s.
     */
    static GenerationRequest fromJson(JsonNode body, boolean run, List<FieldError> errors) {
        if (body == null || !body.isObject()) {
            errors.add(new FieldError("", "the request body must be a JSON object"));
            return null;
        }
        Set<String> allowed = run ? RUN_FIELDS : JOB_FIELDS;
        for (String f : body.propertyNames()) {
            if (!allowed.contains(f)) {
                errors.add(new FieldError(f, "unknown field; allowed: " + String.join(", ", allowed)));
            }
        }
        JsonNode modelNode = body.get("model");
        String model = null;
        if (modelNode != null && !modelNode.isNull()) {
            if (modelNode.isString()) model = modelNode.asString();
            else errors.add(new FieldError("model", "must be a string"));
        }
        JsonNode modeNode = body.get("mode");
        String mode = null;
        if (modeNode != null && !modeNode.isNull()) {
            // A mode that is not a string is reported with the model's modes once the model is known.
            mode = modeNode.isString() ? modeNode.asString() : Json.write(modeNode);
        }
        List<String> prompts = prompts(body, run, errors);
        String negative = optionalText(body, "negative_prompt", errors);
        Integer priority = integer(body, "priority", errors);
        Integer count = run ? integer(body, "count", errors) : Integer.valueOf(1);
        GenerationRequest.ClientWebhook webhook = callback(body.get("webhook"), errors);
        Map<String, List<String>> images = imageRefs(body.get("images"), errors);
        Map<String, Object> params = new LinkedHashMap<>();
        JsonNode p = body.get("params");
        if (p != null && !p.isNull()) {
            if (!p.isObject()) errors.add(new FieldError("params", "must be an object"));
            else for (String name : p.propertyNames()) params.put(name, Json.MAPPER.treeToValue(p.get(name), Object.class));
        }
        Map<String, List<Object>> grid = run ? grid(body.get("grid"), errors) : Map.of();
        return new GenerationRequest(model, mode, prompts, negative, params, images, priority == null ? 0 : priority, webhook,
                count == null ? 1 : count, grid, GenerationRequest.V1);
    }

    /**
     * Checks a typed request against the catalogue, adding every problem to {@code errors} under
     * the {@code /v1} field names. Returns null only when the model or mode is unknown.
     */
    public static JobRequest check(GenerationRequest g, boolean run, Catalog catalog, List<FieldError> errors) {
        Model model = null;
        if (g.model() == null) {
            errors.add(new FieldError("model", "is required; GET /v1/models lists the models"));
        } else {
            model = catalog.find(g.model()).orElse(null);
            if (model == null) {
                errors.add(new FieldError("model", "unknown model '" + g.model() + "'; known: "
                        + catalog.all().stream().map(Model::id).collect(Collectors.joining(", "))));
            }
        }
        List<String> prompts = checkPrompts(g.prompts(), run, errors);
        String negative = g.negativePrompt();
        if (negative != null && negative.length() > MAX_PROMPT) {
            errors.add(new FieldError("negative_prompt", "is longer than " + MAX_PROMPT + " characters"));
        }
        if (negative != null && negative.isEmpty()) negative = null;
        if (g.priority() < -10 || g.priority() > 10) {
            errors.add(new FieldError("priority", "must be an integer between -10 and 10, got " + g.priority()));
        }
        if (run && (g.count() < 1 || g.count() > 10_000)) {
            errors.add(new FieldError("count", "must be an integer between 1 and 10000, got " + g.count()));
        }
        JsonNode callback = checkCallback(g.webhook(), errors);
        checkImageRefs(g.images(), errors);
        if (model == null) return null;
        ModeSpec mode = mode(g.mode(), model, g.images(), errors);
        if (mode == null) return null;
        if (prompts.isEmpty() && mode.promptRequired() && errors.stream().noneMatch(e -> e.field().startsWith("prompt"))) {
            errors.add(new FieldError("prompt", run ? "give prompt or prompts" : "is required"));
        }
        if (prompts.isEmpty()) prompts = List.of("");
        checkImages(mode, model, g.images(), errors);
        JsonNode given = g.params().isEmpty() ? null : Json.MAPPER.valueToTree(g.params());
        Map<String, Object> params = ParamResolver.resolve(model, mode.id(), given, "params", errors);
        Map<String, List<Object>> grid = run ? checkGrid(g.grid(), model, mode.id(), errors) : Map.of();
        ParamResolver.checkArea(model, params, grid, "params", errors);
        return new JobRequest(model, mode.id(), prompts, negative, params, g.images(), g.priority(), callback,
                run ? g.count() : 1, grid, g.origin());
    }

    /** How many jobs the request expands to (prompts × count × grid cells), saturating. */
    public long jobCount() {
        long n = (long) prompts.size() * count;
        for (List<Object> v : grid.values()) {
            n = Math.multiplyExact(n, Math.max(1, v.size()));
            if (n > Integer.MAX_VALUE) return Integer.MAX_VALUE;
        }
        return n;
    }

    private static List<String> prompts(JsonNode body, boolean run, List<FieldError> errors) {
        List<String> out = new ArrayList<>();
        JsonNode p = body.get("prompt");
        JsonNode ps = run ? body.get("prompts") : null;
        if (p != null && !p.isNull() && ps != null && !ps.isNull()) {
            errors.add(new FieldError("prompts", "give prompt or prompts, not both"));
            return out;
        }
        if (ps != null && !ps.isNull()) {
            if (!ps.isArray() || ps.isEmpty()) {
                errors.add(new FieldError("prompts", "must be a non-empty list of strings"));
                return out;
            }
            for (int i = 0; i < ps.size(); i++) {
                JsonNode e = ps.get(i);
                if (!e.isString()) errors.add(new FieldError("prompts[" + i + "]", "must be a non-empty string"));
                else out.add(e.asString());
            }
            return out;
        }
        if (p != null && !p.isNull()) {
            if (!p.isString()) errors.add(new FieldError("prompt", "must be a string"));
            else out.add(p.asString());
        }
        return out;
    }

    /** The prompts' values: one for a job, each non-blank and not too long. */
    private static List<String> checkPrompts(List<String> given, boolean run, List<FieldError> errors) {
        List<String> out = new ArrayList<>();
        if (given.size() > 1 && !run) {
            errors.add(new FieldError("prompt", "a job has one prompt; a run takes several (prompts)"));
            return out;
        }
        if (given.size() > MAX_PROMPTS) errors.add(new FieldError("prompts", "at most " + MAX_PROMPTS + " prompts"));
        boolean list = given.size() > 1;
        for (int i = 0; i < given.size(); i++) {
            String e = given.get(i);
            String f = list ? "prompts[" + i + "]" : "prompt";
            if (e == null || e.isBlank()) errors.add(new FieldError(f, list ? "must be a non-empty string" : "must not be empty"));
            else if (e.length() > MAX_PROMPT) errors.add(new FieldError(f, "is longer than " + MAX_PROMPT + " characters"));
            else out.add(e);
        }
        return out;
    }

    private static String optionalText(JsonNode body, String field, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isString()) {
            errors.add(new FieldError(field, "must be a string"));
            return null;
        }
        return n.asString();
    }

    /** An integer field's value, or null when absent or not an integer (reported). */
    private static Integer integer(JsonNode body, String field, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            errors.add(new FieldError(field, "must be an integer, got " + Json.write(n)));
            return null;
        }
        return n.intValue();
    }

    private static GenerationRequest.ClientWebhook callback(JsonNode n, List<FieldError> errors) {
        if (n == null || n.isNull()) return null;
        if (!n.isObject()) {
            errors.add(new FieldError("webhook", "must be an object {\"url\", \"events\"?}"));
            return null;
        }
        for (String f : n.propertyNames()) {
            if (!f.equals("url") && !f.equals("events")) errors.add(new FieldError("webhook." + f, "unknown field; allowed: url, events"));
        }
        JsonNode url = n.get("url");
        if (url != null && !url.isNull() && !url.isString()) errors.add(new FieldError("webhook.url", "is required and must be a string"));
        List<String> events = new ArrayList<>();
        JsonNode ev = n.get("events");
        if (ev != null && !ev.isNull()) {
            if (!ev.isArray()) errors.add(new FieldError("webhook.events", "must be a list of statuses"));
            else for (int i = 0; i < ev.size(); i++) {
                if (!ev.get(i).isString()) errors.add(new FieldError("webhook.events[" + i + "]", "must be one of " + STATUS_EVENTS));
                else events.add(ev.get(i).asString());
            }
        }
        return new GenerationRequest.ClientWebhook(url != null && url.isString() ? url.asString() : null, events);
    }

    /** Checks a client webhook and returns it as stored with the job ({@code {"url", "events"?}}), or null. */
    private static JsonNode checkCallback(GenerationRequest.ClientWebhook w, List<FieldError> errors) {
        if (w == null) return null;
        if (w.url() == null) {
            errors.add(new FieldError("webhook.url", "is required and must be a string"));
        } else {
            try {
                URI u = URI.create(w.url());
                if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https")) || u.getHost() == null) {
                    errors.add(new FieldError("webhook.url", "must be an absolute http(s) URL"));
                }
            } catch (IllegalArgumentException e) {
                errors.add(new FieldError("webhook.url", "is not a valid URL"));
            }
        }
        for (int i = 0; i < w.events().size(); i++) {
            if (!STATUS_EVENTS.contains(w.events().get(i))) errors.add(new FieldError("webhook.events[" + i + "]", "must be one of " + STATUS_EVENTS));
        }
        tools.jackson.databind.node.ObjectNode out = Json.object().put("url", w.url());
        if (!w.events().isEmpty()) out.set("events", Json.MAPPER.valueToTree(w.events()));
        return out;
    }

    private static Map<String, List<String>> imageRefs(JsonNode n, List<FieldError> errors) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) return out;
        if (!n.isObject()) {
            errors.add(new FieldError("images", "must be an object mapping input names to lists of images"));
            return out;
        }
        for (String name : n.propertyNames()) {
            JsonNode v = n.get(name);
            String f = "images." + name;
            List<String> refs = new ArrayList<>();
            if (v.isString()) {
                refs.add(v.asString());
            } else if (v.isArray()) {
                for (int i = 0; i < v.size(); i++) {
                    if (!v.get(i).isString() || v.get(i).asString().isBlank()) {
                        errors.add(new FieldError(f + "[" + i + "]", "must be an https:// URL, a data:image/… URI or asset:<id>"));
                    } else {
                        refs.add(v.get(i).asString());
                    }
                }
            } else {
                errors.add(new FieldError(f, "must be a list of image references"));
                continue;
            }
            out.put(name, refs);
        }
        return out;
    }

    private static void checkImageRefs(Map<String, List<String>> images, List<FieldError> errors) {
        for (var e : images.entrySet()) {
            List<String> refs = e.getValue();
            for (int i = 0; i < refs.size(); i++) {
                String r = refs.get(i);
                if (r == null || !(r.startsWith("https://") || r.startsWith("http://") || r.startsWith("data:") || r.startsWith("asset:"))) {
                    errors.add(new FieldError("images." + e.getKey() + "[" + i + "]", "must be an http(s) URL, a data:image/… URI or asset:<id>"));
                }
            }
        }
    }

    /** The mode given, or the first mode whose image inputs fit the images given. */
    private static ModeSpec mode(String given, Model model, Map<String, List<String>> images, List<FieldError> errors) {
        String known = model.modes().stream().map(ModeSpec::id).collect(Collectors.joining(", "));
        if (given != null) {
            ModeSpec m = model.mode(given);
            if (m == null) errors.add(new FieldError("mode", "model " + model.id() + " has no mode " + Json.write(given) + "; its modes: " + known));
            return m;
        }
        for (ModeSpec m : model.modes()) {
            boolean fits = images.keySet().stream().allMatch(k -> m.image(k) != null)
                    && m.images().stream().allMatch(i -> i.min() == 0 || images.containsKey(i.name()));
            if (fits) return m;
        }
        return model.defaultMode();
    }

    private static void checkImages(ModeSpec mode, Model model, Map<String, List<String>> images, List<FieldError> errors) {
        for (String name : images.keySet()) {
            if (mode.image(name) == null) {
                String accepted = mode.images().isEmpty() ? "no image inputs"
                        : "inputs " + mode.images().stream().map(ImageInputSpec::name).collect(Collectors.joining(", "));
                errors.add(new FieldError("images." + name, "mode " + mode.id() + " of " + model.id() + " takes " + accepted));
            }
        }
        for (ImageInputSpec in : mode.images()) {
            if (in.name().equals(ModeSpec.ANY_NAME)) {
                // Free names: one image per name, and at most max of them in all.
                int total = 0;
                for (var e : images.entrySet()) {
                    if (mode.images().stream().anyMatch(x -> x.name().equals(e.getKey()))) continue;
                    total += e.getValue().size();
                    if (e.getValue().size() != 1) errors.add(new FieldError("images." + e.getKey(), "give exactly one image per file name"));
                }
                if (total < in.min() || total > in.max()) {
                    errors.add(new FieldError("images", "mode " + mode.id() + " takes " + in.min() + " to " + in.max() + " named images, got " + total));
                }
                continue;
            }
            int n = images.getOrDefault(in.name(), List.of()).size();
            if (n < in.min()) {
                errors.add(new FieldError("images." + in.name(), "mode " + mode.id() + " needs " + bounds(in) + ", got " + n));
            } else if (n > in.max()) {
                errors.add(new FieldError("images." + in.name(), "mode " + mode.id() + " takes " + bounds(in) + ", got " + n));
            }
        }
    }

    private static String bounds(ImageInputSpec in) {
        return (in.min() == in.max() ? String.valueOf(in.min()) : in.min() + " to " + in.max()) + " image(s) in '" + in.name() + "'";
    }

    private static Map<String, List<Object>> grid(JsonNode n, List<FieldError> errors) {
        Map<String, List<Object>> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) return out;
        if (!n.isObject()) {
            errors.add(new FieldError("grid", "must be an object mapping parameters to lists of values"));
            return out;
        }
        for (String name : n.propertyNames()) {
            JsonNode vals = n.get(name);
            if (!vals.isArray() || vals.isEmpty()) {
                errors.add(new FieldError("grid." + name, "must be a non-empty list of values"));
                continue;
            }
            List<Object> list = new ArrayList<>();
            for (JsonNode v : vals) list.add(Json.MAPPER.treeToValue(v, Object.class));
            out.put(name, list);
        }
        return out;
    }

    private static Map<String, List<Object>> checkGrid(Map<String, List<Object>> grid, Model model, String mode, List<FieldError> errors) {
        Map<String, List<Object>> out = new LinkedHashMap<>();
        for (var e : grid.entrySet()) {
            String name = e.getKey();
            String f = "grid." + name;
            ParamSpec spec = model.param(name);
            if (spec == null) {
                errors.add(new FieldError(f, "unknown parameter for model " + model.id()));
                continue;
            }
            if (!spec.appliesTo(mode)) {
                errors.add(new FieldError(f, "does not apply to mode " + mode));
                continue;
            }
            List<Object> vals = e.getValue();
            if (vals == null || vals.isEmpty()) {
                errors.add(new FieldError(f, "must be a non-empty list of values"));
                continue;
            }
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < vals.size(); i++) {
                Object v = ParamResolver.check(spec, Json.MAPPER.valueToTree(vals.get(i)), f + "[" + i + "]", errors);
                if (v != null) list.add(v);
            }
            out.put(name, list);
        }
        return out;
    }
}

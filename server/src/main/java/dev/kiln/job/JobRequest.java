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
 * A job or run request, parsed and checked against the catalogue in one pass that collects every
 * bad field. Image references are only checked for shape here; their content is checked when
 * they are fetched and stored.
 *
 * @param params resolved parameters (defaults, locks), seed not yet randomised
 * @param prompts one entry for a job; the list of prompts for a run
 * @param grid parameter name → its values, already checked; empty when no grid
 */
public record JobRequest(
        Model model, String mode, List<String> prompts, String negativePrompt, Map<String, Object> params,
        Map<String, List<String>> images, int priority, JsonNode callback, int count, Map<String, List<Object>> grid) {

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
     * Parses a request body, adding every problem to {@code errors}. Returns null only when the
     * model or mode is unknown; otherwise a request (possibly with errors) whose image references
     * have the right shape, so their content can be checked in the same pass.
     */
    public static JobRequest parse(JsonNode body, boolean run, Catalog catalog, List<FieldError> errors) {
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
        Model model = null;
        if (modelNode == null || modelNode.isNull()) {
            errors.add(new FieldError("model", "is required; GET /v1/models lists the models"));
        } else if (!modelNode.isString()) {
            errors.add(new FieldError("model", "must be a string"));
        } else {
            model = catalog.find(modelNode.asString()).orElse(null);
            if (model == null) {
                errors.add(new FieldError("model", "unknown model '" + modelNode.asString() + "'; known: "
                        + catalog.all().stream().map(Model::id).collect(Collectors.joining(", "))));
            }
        }

        List<String> prompts = prompts(body, run, errors);
        String negative = optionalText(body, "negative_prompt", errors);
        int priority = integer(body, "priority", 0, -10, 10, errors);
        int count = run ? integer(body, "count", 1, 1, 10_000, errors) : 1;
        JsonNode callback = callback(body.get("webhook"), errors);
        Map<String, List<String>> images = imageRefs(body.get("images"), errors);

        if (model == null) return null;
        ModeSpec mode = mode(body.get("mode"), model, images, errors);
        if (mode == null) return null;
        boolean promptRequired = mode.promptRequired();
        if (prompts.isEmpty() && promptRequired && errors.stream().noneMatch(e -> e.field().startsWith("prompt"))) {
            errors.add(new FieldError(run ? "prompt" : "prompt", run ? "give prompt or prompts" : "is required"));
        }
        if (prompts.isEmpty()) prompts = List.of("");
        checkImages(mode, model, images, errors);
        Map<String, Object> params = ParamResolver.resolve(model, mode.id(), body.get("params"), "params", errors);
        Map<String, List<Object>> grid = run ? grid(body.get("grid"), model, mode.id(), errors) : Map.of();
        ParamResolver.checkArea(model, params, grid, "params", errors);
        return new JobRequest(model, mode.id(), prompts, negative, params, images, priority, callback, count, grid);
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
            if (ps.size() > MAX_PROMPTS) errors.add(new FieldError("prompts", "at most " + MAX_PROMPTS + " prompts"));
            for (int i = 0; i < ps.size(); i++) {
                JsonNode e = ps.get(i);
                if (!e.isString() || e.asString().isBlank()) errors.add(new FieldError("prompts[" + i + "]", "must be a non-empty string"));
                else if (e.asString().length() > MAX_PROMPT) errors.add(new FieldError("prompts[" + i + "]", "is longer than " + MAX_PROMPT + " characters"));
                else out.add(e.asString());
            }
            return out;
        }
        if (p != null && !p.isNull()) {
            if (!p.isString()) errors.add(new FieldError("prompt", "must be a string"));
            else if (p.asString().isBlank()) errors.add(new FieldError("prompt", "must not be empty"));
            else if (p.asString().length() > MAX_PROMPT) errors.add(new FieldError("prompt", "is longer than " + MAX_PROMPT + " characters"));
            else out.add(p.asString());
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
        if (n.asString().length() > MAX_PROMPT) errors.add(new FieldError(field, "is longer than " + MAX_PROMPT + " characters"));
        return n.asString().isEmpty() ? null : n.asString();
    }

    private static int integer(JsonNode body, String field, int def, int min, int max, List<FieldError> errors) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) return def;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min || n.intValue() > max) {
            errors.add(new FieldError(field, "must be an integer between " + min + " and " + max + ", got " + Json.write(n)));
            return def;
        }
        return n.intValue();
    }

    private static JsonNode callback(JsonNode n, List<FieldError> errors) {
        if (n == null || n.isNull()) return null;
        if (!n.isObject()) {
            errors.add(new FieldError("webhook", "must be an object {\"url\", \"events\"?}"));
            return null;
        }
        for (String f : n.propertyNames()) {
            if (!f.equals("url") && !f.equals("events")) errors.add(new FieldError("webhook." + f, "unknown field; allowed: url, events"));
        }
        JsonNode url = n.get("url");
        if (url == null || !url.isString()) {
            errors.add(new FieldError("webhook.url", "is required and must be a string"));
        } else {
            try {
                URI u = URI.create(url.asString());
                if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https")) || u.getHost() == null) {
                    errors.add(new FieldError("webhook.url", "must be an absolute http(s) URL"));
                }
            } catch (IllegalArgumentException e) {
                errors.add(new FieldError("webhook.url", "is not a valid URL"));
            }
        }
        JsonNode ev = n.get("events");
        if (ev != null && !ev.isNull()) {
            if (!ev.isArray()) errors.add(new FieldError("webhook.events", "must be a list of statuses"));
            else for (int i = 0; i < ev.size(); i++) {
                if (!ev.get(i).isString() || !STATUS_EVENTS.contains(ev.get(i).asString())) {
                    errors.add(new FieldError("webhook.events[" + i + "]", "must be one of " + STATUS_EVENTS));
                }
            }
        }
        return n;
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
            for (int i = 0; i < refs.size(); i++) {
                String r = refs.get(i);
                if (!(r.startsWith("https://") || r.startsWith("http://") || r.startsWith("data:") || r.startsWith("asset:"))) {
                    errors.add(new FieldError(f + "[" + i + "]", "must be an http(s) URL, a data:image/… URI or asset:<id>"));
                }
            }
            out.put(name, refs);
        }
        return out;
    }

    /** The mode given, or the first mode whose image inputs fit the images given. */
    private static ModeSpec mode(JsonNode n, Model model, Map<String, List<String>> images, List<FieldError> errors) {
        String known = model.modes().stream().map(ModeSpec::id).collect(Collectors.joining(", "));
        if (n != null && !n.isNull()) {
            ModeSpec m = n.isString() ? model.mode(n.asString()) : null;
            if (m == null) errors.add(new FieldError("mode", "model " + model.id() + " has no mode " + Json.write(n) + "; its modes: " + known));
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

    private static Map<String, List<Object>> grid(JsonNode n, Model model, String mode, List<FieldError> errors) {
        Map<String, List<Object>> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) return out;
        if (!n.isObject()) {
            errors.add(new FieldError("grid", "must be an object mapping parameters to lists of values"));
            return out;
        }
        for (String name : n.propertyNames()) {
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
            JsonNode vals = n.get(name);
            if (!vals.isArray() || vals.isEmpty()) {
                errors.add(new FieldError(f, "must be a non-empty list of values"));
                continue;
            }
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < vals.size(); i++) {
                Object v = ParamResolver.check(spec, vals.get(i), f + "[" + i + "]", errors);
                if (v != null) list.add(v);
            }
            out.put(name, list);
        }
        return out;
    }
}

package dev.kiln.catalog;

import dev.kiln.config.Durations;
import dev.kiln.support.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Reads catalogue files (YAML or JSON, one model per file): those shipped in the jar under
 * {@code catalog/}, then those in {@code KILN_CATALOG_DIR}, which may add models or replace
 * shipped ones by id. Every problem in every file is collected and reported at once, naming the
 * file and the field.
 */
public final class CatalogLoader {
    private static final YAMLMapper YAML = YAMLMapper.builder().build();
    private static final Set<String> KINDS = Set.of("image", "video");
    private static final Set<String> MODEL_FIELDS = Set.of("id", "name", "kind", "description", "actions", "modes", "params",
            "cost", "eta", "timeout", "bindings", "presets", "examples", "derive", "area");

    /** The catalogue could not be loaded; the message lists every problem. */
    public static final class CatalogException extends RuntimeException {
        public CatalogException(String message) {
            super(message);
        }
    }

    private CatalogLoader() {}

    /** The shipped catalogue plus the files in {@code userDir} (may be null), checked against {@code targets}. */
    public static Catalog load(String userDir, BindingTargets targets) {
        List<String> problems = new ArrayList<>();
        Map<String, Model> models = new LinkedHashMap<>();
        try {
            Resource[] shipped = new PathMatchingResourcePatternResolver().getResources("classpath*:catalog/*.yaml");
            java.util.Arrays.sort(shipped, java.util.Comparator.comparing(Resource::getFilename));
            for (Resource r : shipped) {
                try (InputStream in = r.getInputStream()) {
                    add(models, parse(in, "catalog/" + r.getFilename(), problems, CatalogLoader::shippedFile, targets), problems, false);
                }
            }
        } catch (IOException e) {
            problems.add("cannot list the shipped catalogue: " + e.getMessage());
        }
        if (userDir != null) {
            Path dir = Path.of(userDir);
            if (!Files.isDirectory(dir)) {
                problems.add("KILN_CATALOG_DIR " + dir.toAbsolutePath() + " is not a directory");
            } else {
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.filter(p -> p.toString().matches(".*\\.(ya?ml|json)$")).sorted().toList()) {
                        try (InputStream in = Files.newInputStream(f)) {
                            add(models, parse(in, f.toString(), problems, name -> userFile(dir, name), targets), problems, true);
                        }
                    }
                } catch (IOException e) {
                    problems.add("cannot read KILN_CATALOG_DIR " + dir + ": " + e.getMessage());
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new CatalogException("The model catalogue is invalid:\n  - " + String.join("\n  - ", problems));
        }
        if (models.isEmpty()) throw new CatalogException("The model catalogue is empty");
        return new Catalog(List.copyOf(models.values()));
    }

    private static void add(Map<String, Model> models, Model m, List<String> problems, boolean mayReplace) {
        if (m == null) return;
        Model old = models.get(m.id());
        if (old != null && !mayReplace) {
            problems.add(m.source() + ": model id '" + m.id() + "' is already defined in " + old.source());
            return;
        }
        models.put(m.id(), m);
    }

    /** Opens a file a model refers to (e.g. a workflow), by its path relative to the catalogue. */
    @FunctionalInterface
    public interface FileSource {
        InputStream open(String relativePath) throws IOException;
    }

    static InputStream shippedFile(String path) throws IOException {
        if (path.contains("..")) throw new IOException("path must stay inside the catalogue");
        return new org.springframework.core.io.ClassPathResource("catalog/" + path).getInputStream();
    }

    static InputStream userFile(Path dir, String path) throws IOException {
        Path f = dir.resolve(path).normalize();
        if (!f.startsWith(dir.normalize())) throw new IOException("path must stay inside KILN_CATALOG_DIR");
        return Files.newInputStream(f);
    }

    /** Parses and checks one model file; returns null after adding problems. */
    public static Model parse(InputStream in, String source, List<String> problems, BindingTargets targets) {
        return parse(in, source, problems, CatalogLoader::shippedFile, targets);
    }

    /** Parses and checks one model file, reading the files it refers to with {@code files}; returns null after adding problems. */
    public static Model parse(InputStream in, String source, List<String> problems, FileSource files, BindingTargets targets) {
        JsonNode root;
        try {
            root = YAML.readTree(in);
        } catch (RuntimeException e) {
            problems.add(source + ": not valid YAML/JSON: " + e.getMessage().lines().findFirst().orElse(""));
            return null;
        }
        if (root == null || !root.isObject()) {
            problems.add(source + ": must hold one model object");
            return null;
        }
        int before = problems.size();
        Reader r = new Reader(source, problems);
        for (String f : root.propertyNames()) if (!MODEL_FIELDS.contains(f)) r.problem(f, "unknown field; known: " + MODEL_FIELDS);
        String id = r.text(root, "id", true);
        if (id != null && !id.matches("[a-z0-9][a-z0-9._-]{0,99}")) r.problem("id", "must be lowercase letters, digits, '.', '_' or '-'");
        String name = r.text(root, "name", false);
        String kind = r.text(root, "kind", true);
        if (kind != null && !KINDS.contains(kind)) r.problem("kind", "must be one of " + KINDS);
        List<String> actions = r.strings(root, "actions");
        List<ModeSpec> modes = modes(root.get("modes"), r);
        List<ParamSpec> params = params(root.get("params"), modes, r);
        Rule cost = rule(root.get("cost"), "cost", params, modes, r);
        Rule eta = rule(root.get("eta"), "eta", params, modes, r);
        Duration timeout = null;
        String t = r.text(root, "timeout", false);
        if (t != null) {
            try {
                timeout = Durations.parse(t);
            } catch (IllegalArgumentException e) {
                r.problem("timeout", "must be " + Durations.FORMS + ", got '" + t + "'");
            }
        }
        Map<String, String> shared = derive(root.get("derive"), "derive", r);
        List<Binding> bindings = bindings(root.get("bindings"), modes, params, r, files, shared, targets);
        Map<String, Model.Preset> presets = presets(root.get("presets"), params, r);
        List<String> examples = r.strings(root, "examples");
        AreaRule area = area(root.get("area"), params, r);
        if (problems.size() > before) return null;
        return new Model(id, name == null ? id : name, kind, r.text(root, "description", false), actions, modes, params,
                cost, eta, timeout, bindings, presets, examples, source, area);
    }

    private static List<ModeSpec> modes(JsonNode node, Reader r) {
        List<ModeSpec> out = new ArrayList<>();
        if (node == null || !node.isArray() || node.isEmpty()) {
            r.problem("modes", "must list at least one mode");
            return out;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String f = "modes[" + i + "]";
            String id = r.text(m, "id", true, f);
            if (id != null && !seen.add(id)) r.problem(f + ".id", "duplicate mode '" + id + "'");
            List<ImageInputSpec> images = new ArrayList<>();
            JsonNode imgs = m.get("images");
            if (imgs != null && imgs.isArray()) {
                for (int j = 0; j < imgs.size(); j++) {
                    JsonNode im = imgs.get(j);
                    String g = f + ".images[" + j + "]";
                    String n = r.text(im, "name", true, g);
                    int min = im.path("min").asInt(1);
                    int max = im.path("max").asInt(Math.max(min, 1));
                    if (min < 0 || max < 1 || max < min) r.problem(g, "needs 0 <= min <= max and max >= 1");
                    if (n != null) images.add(new ImageInputSpec(n, min, max));
                }
            } else if (imgs != null && !imgs.isNull()) {
                r.problem(f + ".images", "must be a list");
            }
            String prompt = m.path("prompt").asString("required");
            if (!prompt.equals("required") && !prompt.equals("optional")) r.problem(f + ".prompt", "must be required or optional");
            if (id != null) out.add(new ModeSpec(id, images, !prompt.equals("optional")));
        }
        return out;
    }

    private static List<ParamSpec> params(JsonNode node, List<ModeSpec> modes, Reader r) {
        List<ParamSpec> out = new ArrayList<>();
        if (node == null || node.isNull()) return out;
        if (!node.isArray()) {
            r.problem("params", "must be a list");
            return out;
        }
        Set<String> seen = new HashSet<>();
        Set<String> modeIds = new HashSet<>();
        modes.forEach(m -> modeIds.add(m.id()));
        for (int i = 0; i < node.size(); i++) {
            JsonNode p = node.get(i);
            String f = "params[" + i + "]";
            String name = r.text(p, "name", true, f);
            if (name == null) continue;
            f = "params." + name;
            if (!name.matches("[a-z][a-z0-9_]*")) r.problem(f, "name must be lowercase letters, digits and '_'");
            if (!seen.add(name)) r.problem(f, "duplicate parameter");
            if (Set.of("prompt", "negative_prompt", "mode", "model", "job_id").contains(name)) r.problem(f, "'" + name + "' is reserved");
            ParamType type;
            try {
                type = ParamType.of(p.path("type").asString("string"));
            } catch (IllegalArgumentException e) {
                r.problem(f + ".type", "must be one of integer, number, string, boolean, object");
                continue;
            }
            Double min = p.has("min") ? p.get("min").asDouble() : null;
            Double max = p.has("max") ? p.get("max").asDouble() : null;
            List<Object> enums = new ArrayList<>();
            if (p.has("enum")) {
                for (JsonNode e : p.get("enum")) {
                    Object v = ParamResolver.convert(type, e);
                    if (v == null) r.problem(f + ".enum", "value " + e + " is not of type " + type.wire());
                    else enums.add(v);
                }
            }
            List<String> pm = r.strings(p, "modes");
            for (String m : pm) if (!modeIds.contains(m)) r.problem(f + ".modes", "unknown mode '" + m + "'");
            ParamPattern pattern = pattern(p.get("pattern"), type, f + ".pattern", r);
            List<String> defaultIn = r.strings(p, "default_in");
            for (String m : defaultIn) if (!modeIds.contains(m)) r.problem(f + ".default_in", "unknown mode '" + m + "'");
            ParamSpec bare = new ParamSpec(name, type, null, min, max, enums, null, false, pm, null, null, pattern, defaultIn);
            Object def = value(p.get("default"), bare, f + ".default", r);
            Object locked = value(p.get("locked"), bare, f + ".locked", r);
            boolean required = p.path("required").asBoolean(false);
            if (required && def != null) r.problem(f, "a required parameter cannot have a default");
            ParamSpec.Step step = null;
            JsonNode st = p.get("step");
            if (st != null && !st.isNull()) {
                if (type != ParamType.INTEGER || !st.isObject() || !st.path("multiple").isIntegralNumber()) {
                    r.problem(f + ".step", "only integers take a step: {multiple: N, offset: M}");
                } else {
                    try {
                        step = new ParamSpec.Step(st.path("multiple").asInt(), st.path("offset").asInt(0));
                    } catch (IllegalArgumentException e) {
                        r.problem(f + ".step", e.getMessage());
                    }
                }
            }
            if (!defaultIn.isEmpty() && def == null) r.problem(f + ".default_in", "names the modes that get the default, but there is none");
            ParamSpec spec = new ParamSpec(name, type, locked != null ? locked : def, min, max, enums, locked, required, pm,
                    p.path("help").asString(null), step, pattern, defaultIn);
            // The default, the bounds and every enum value must sit on the lattice themselves.
            if (step != null) {
                for (Object v : new Object[] {spec.defaultValue(), min, max}) {
                    if (v instanceof Number n && !step.allows(n.longValue())) r.problem(f + ".step", n + " is not " + step.describe());
                }
                for (Object v : enums) if (v instanceof Number n && !step.allows(n.longValue())) r.problem(f + ".step", n + " is not " + step.describe());
            }
            out.add(spec);
        }
        return out;
    }

    /** A string parameter's {@code pattern: {regex, example, min, max, floor_to}}. */
    private static ParamPattern pattern(JsonNode n, ParamType type, String field, Reader r) {
        if (n == null || n.isNull()) return null;
        if (type != ParamType.STRING) {
            r.problem(field, "only string parameters take a pattern");
            return null;
        }
        String regex = r.text(n, "regex", true, field);
        String example = r.text(n, "example", true, field);
        if (regex == null || example == null) return null;
        try {
            ParamPattern p = new ParamPattern(regex, example, n.has("min") ? n.get("min").asDouble() : null,
                    n.has("max") ? n.get("max").asDouble() : null, n.has("floor_to") ? n.get("floor_to").asInt() : null);
            List<Long> numbers = p.numbers(example);
            if (numbers == null || !p.inBounds(numbers)) r.problem(field + ".example", "'" + example + "' does not match the pattern");
            return p;
        } catch (RuntimeException e) {
            r.problem(field, "not a valid pattern: " + e.getMessage());
            return null;
        }
    }

    /** {@code area: {width, height, min, max, help}}: the output's total pixel count. */
    private static AreaRule area(JsonNode n, List<ParamSpec> params, Reader r) {
        if (n == null || n.isNull()) return null;
        if (!n.isObject()) {
            r.problem("area", "must be {width, height, min, max}");
            return null;
        }
        String w = r.text(n, "width", true, "area"), h = r.text(n, "height", true, "area");
        for (String p : new String[] {w, h}) {
            if (p != null && params.stream().noneMatch(x -> x.name().equals(p) && x.type() == ParamType.INTEGER)) {
                r.problem("area", "'" + p + "' is not an integer parameter of the model");
            }
        }
        if (!n.path("min").isIntegralNumber() || !n.path("max").isIntegralNumber()) {
            r.problem("area", "min and max must be whole numbers of pixels");
            return null;
        }
        try {
            AreaRule rule = new AreaRule(w, h, n.get("min").asLong(), n.get("max").asLong(), n.path("help").asString(null));
            ParamSpec ws = params.stream().filter(x -> x.name().equals(w)).findFirst().orElse(null);
            ParamSpec hs = params.stream().filter(x -> x.name().equals(h)).findFirst().orElse(null);
            if (ws != null && hs != null && ws.max() != null && hs.max() != null && ws.max() * hs.max() < rule.min()) {
                r.problem("area", "no size within the parameters' ranges reaches " + rule.min() + " pixels");
            }
            return rule;
        } catch (IllegalArgumentException e) {
            r.problem("area", e.getMessage());
            return null;
        }
    }

    private static Object value(JsonNode n, ParamSpec spec, String field, Reader r) {
        if (n == null || n.isNull()) return null;
        List<dev.kiln.support.FieldError> errs = new ArrayList<>();
        Object v = ParamResolver.check(spec, n, field, errs);
        errs.forEach(e -> r.problem(e.field(), e.message()));
        return v;
    }

    private static Map<String, Model.Preset> presets(JsonNode node, List<ParamSpec> params, Reader r) {
        Map<String, Model.Preset> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) return out;
        if (!node.isObject()) {
            r.problem("presets", "must map preset names to {help, params}");
            return out;
        }
        for (String name : node.propertyNames()) {
            JsonNode p = node.get(name);
            Map<String, Object> values = new LinkedHashMap<>();
            JsonNode ps = p.path("params");
            for (String k : ps.propertyNames()) {
                ParamSpec spec = params.stream().filter(x -> x.name().equals(k)).findFirst().orElse(null);
                if (spec == null) {
                    r.problem("presets." + name + ".params." + k, "unknown parameter");
                    continue;
                }
                Object v = value(ps.get(k), spec, "presets." + name + ".params." + k, r);
                if (v != null) values.put(k, v);
            }
            out.put(name, new Model.Preset(p.path("help").asString(null), values));
        }
        return out;
    }

    private static Rule rule(JsonNode n, String field, List<ParamSpec> params, List<ModeSpec> modes, Reader r) {
        if (n == null || n.isNull()) return null;
        String expr = n.isObject() ? n.path("expression").asString(null) : n.asString(null);
        if (expr == null) {
            r.problem(field, "needs an expression");
            return null;
        }
        Rule rule = new Rule(expr, n.path("unit").asString(field.equals("eta") ? "seconds" : "credits"),
                n.path("per").asString(field.equals("eta") ? "job" : "job"), n.path("help").asString(null));
        try {
            Rules.parse(expr);
            Map<String, Object> sample = new LinkedHashMap<>();
            for (ParamSpec p : params) sample.put(p.name(), p.defaultValue());
            sample.put("sandbox_latency", 2.0);
            Rules.evaluate(rule, sample);
            // A parameter whose default is kept for some modes is unset in the others: the rule must cope.
            for (ModeSpec m : modes) {
                if (params.stream().noneMatch(p -> !p.defaultIn().isEmpty() && p.appliesTo(m.id()))) continue;
                Map<String, Object> inMode = new LinkedHashMap<>(sample);
                for (ParamSpec p : params) if (!p.defaultIn().isEmpty()) inMode.put(p.name(), p.defaultFor(m.id()));
                Rules.evaluate(rule, inMode);
            }
        } catch (RuntimeException e) {
            r.problem(field, "expression '" + expr + "' does not evaluate with the defaults: " + e.getMessage());
        }
        return rule;
    }

    /** A binding's (or mode's) input: inline as {@code input}, or read from {@code input_file} (e.g. a ComfyUI workflow). */
    private static JsonNode input(JsonNode b, String field, Reader r, FileSource files) {
        JsonNode file = b.get("input_file");
        if (file == null || file.isNull()) return b.get("input");
        if (b.has("input")) r.problem(field, "give input or input_file, not both");
        try (InputStream in = files.open(file.asString())) {
            return dev.kiln.support.Json.MAPPER.readTree(in);
        } catch (IOException | RuntimeException e) {
            r.problem(field + ".input_file", "cannot read " + file.asString() + ": " + e.getMessage());
            return null;
        }
    }

    private static Map<String, String> derive(JsonNode d, String field, Reader r) {
        Map<String, String> out = new LinkedHashMap<>();
        if (d != null && d.isObject()) d.properties().forEach(e -> out.put(e.getKey(), e.getValue().asString()));
        else if (d != null && !d.isNull()) r.problem(field, "must map names to expressions");
        return out;
    }

    private static List<Binding> bindings(JsonNode node, List<ModeSpec> modes, List<ParamSpec> params, Reader r, FileSource files,
                                          Map<String, String> shared, BindingTargets targets) {
        List<Binding> out = new ArrayList<>();
        if (node == null || !node.isArray() || node.isEmpty()) {
            r.problem("bindings", "must list at least one binding");
            return out;
        }
        Set<String> known = new HashSet<>(Set.of("prompt", "negative_prompt", "mode", "model", "job_id"));
        params.forEach(p -> known.add(p.name()));
        Set<String> imageNames = new HashSet<>();
        modes.forEach(m -> m.images().forEach(i -> imageNames.add(i.name())));
        Set<String> modeIds = new HashSet<>();
        modes.forEach(m -> modeIds.add(m.id()));
        for (int i = 0; i < node.size(); i++) {
            JsonNode b = node.get(i);
            String f = "bindings[" + i + "]";
            String provider = r.text(b, "provider", true, f);
            Set<String> providers = targets.providerIds();
            if (provider != null && providers != null && !providers.contains(provider)) {
                r.problem(f + ".provider", "unknown provider; known: " + new java.util.TreeSet<>(providers));
            }
            String remote = r.text(b, "remote", false, f);
            Map<String, Binding.ModeOverride> overrides = new LinkedHashMap<>();
            JsonNode mo = b.get("modes");
            if (mo != null && mo.isObject()) {
                for (String mode : mo.propertyNames()) {
                    if (!modeIds.contains(mode)) r.problem(f + ".modes." + mode, "unknown mode");
                    JsonNode o = mo.get(mode);
                    overrides.put(mode, new Binding.ModeOverride(o.path("remote").asString(null), input(o, f + ".modes." + mode, r, files),
                            o.get("options")));
                }
            }
            // The model's derived values serve every binding; a binding may add or replace some.
            Map<String, String> derive = new LinkedHashMap<>(shared);
            derive.putAll(derive(b.get("derive"), f + ".derive", r));
            Binding binding = new Binding(provider, remote, input(b, f, r, files), overrides, b.get("options"), derive);
            if (!derive.isEmpty()) {
                for (ModeSpec m : modes) {
                    Map<String, Object> sample = new LinkedHashMap<>();
                    for (ParamSpec p : params) if (p.appliesTo(m.id())) sample.put(p.name(), p.defaultFor(m.id()));
                    sample.put("prompt", "example");
                    sample.put("negative_prompt", null);
                    sample.put("mode", m.id());
                    try {
                        binding.values(sample);
                    } catch (RuntimeException e) {
                        r.problem(f + ".derive", "does not evaluate with the defaults of mode " + m.id() + ": " + e.getMessage());
                    }
                }
                known.addAll(derive.keySet());
            }
            for (ModeSpec m : modes) {
                if (binding.remoteFor(m.id()) == null && provider != null && targets.needsRemote(provider)) {
                    r.problem(f + ".remote", "no remote model for mode " + m.id());
                }
                List<String> names = new ArrayList<>(Templates.placeholders(binding.inputFor(m.id())));
                names.addAll(Templates.placeholders(binding.optionsFor(m.id())));
                for (String ph : names) {
                    String base = ph.replaceAll("\\[\\d+]$", "");
                    boolean ok = base.startsWith("images.") ? imageNames.contains(base.substring(7)) : known.contains(base);
                    if (!ok) r.problem(f, "placeholder ${" + ph + "} names nothing the model has");
                }
            }
            out.add(binding);
        }
        return out;
    }

    /** Reads fields and records problems as "file: field: message". */
    private record Reader(String source, List<String> problems) {
        void problem(String field, String message) {
            problems.add(source + ": " + field + ": " + message);
        }

        String text(JsonNode n, String field, boolean required) {
            return text(n, field, required, null);
        }

        String text(JsonNode n, String field, boolean required, String prefix) {
            JsonNode v = n == null ? null : n.get(field);
            String name = prefix == null ? field : prefix + "." + field;
            if (v == null || v.isNull()) {
                if (required) problem(name, "is required");
                return null;
            }
            if (!v.isValueNode()) {
                problem(name, "must be text");
                return null;
            }
            return v.asString();
        }

        List<String> strings(JsonNode n, String field) {
            JsonNode v = n.get(field);
            List<String> out = new ArrayList<>();
            if (v == null || v.isNull()) return out;
            if (!v.isArray()) {
                problem(field, "must be a list");
                return out;
            }
            v.forEach(e -> out.add(e.asString()));
            return out;
        }
    }

    static String describe(JsonNode n) {
        return Json.write(n);
    }
}

package dev.kiln.web;

import dev.kiln.catalog.ImageInputSpec;
import dev.kiln.catalog.ModeSpec;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.catalog.ParamType;
import dev.kiln.catalog.Rules;
import dev.kiln.job.GenerationRequest;
import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.util.MultiValueMap;

/**
 * What the Generate page's form holds, as strings the way the browser sends them, and how that
 * becomes a {@link GenerationRequest}. Field names: {@code model}, {@code mode}, {@code prompt},
 * {@code prompts} (one per line), {@code negative_prompt}, {@code count}, {@code params.NAME},
 * {@code images.NAME} (references: {@code asset:ID} from an upload, or URLs, one per line),
 * {@code grid1_param}/{@code grid1_values} and {@code grid2_…} (comma-separated values). The
 * core's field errors use the same names, so each lands next to its field.
 */
final class GenerateForm {
    static final int GRID_AXES = 2;

    String model;
    String mode;
    String prompt = "";
    String prompts = "";
    String negativePrompt = "";
    String count = "1";
    final Map<String, String> params = new LinkedHashMap<>();
    final Map<String, List<String>> images = new LinkedHashMap<>();
    final List<String[]> grid = new ArrayList<>();

    /** Field errors by form field name; those that match no field are listed at the top. */
    final Map<String, String> errors = new LinkedHashMap<>();
    final List<String> otherErrors = new ArrayList<>();

    static GenerateForm read(MultiValueMap<String, String> f) {
        GenerateForm g = new GenerateForm();
        g.model = blankToNull(f.getFirst("model"));
        g.mode = blankToNull(f.getFirst("mode"));
        g.prompt = nz(f.getFirst("prompt"));
        g.prompts = nz(f.getFirst("prompts"));
        g.negativePrompt = nz(f.getFirst("negative_prompt"));
        g.count = nz(f.getFirst("count")).isBlank() ? "1" : f.getFirst("count").trim();
        for (var e : f.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("params.") && !e.getValue().isEmpty()) g.params.put(k.substring(7), nz(e.getValue().getFirst()));
            if (k.startsWith("images.")) {
                List<String> refs = new ArrayList<>();
                for (String v : e.getValue()) {
                    for (String line : nz(v).split("\\R")) if (!line.isBlank()) refs.add(line.trim());
                }
                if (!refs.isEmpty()) g.images.put(k.substring(7), refs);
            }
        }
        for (int i = 1; i <= GRID_AXES; i++) {
            String p = blankToNull(f.getFirst("grid" + i + "_param"));
            String v = nz(f.getFirst("grid" + i + "_values"));
            g.grid.add(new String[] {p == null ? "" : p, v});
        }
        return g;
    }

    /** The form for a model (its first mode) with every default filled in. */
    static GenerateForm fresh(Model m, String mode) {
        GenerateForm g = new GenerateForm();
        g.model = m.id();
        g.mode = mode != null && m.mode(mode) != null ? mode : m.defaultMode().id();
        for (int i = 1; i <= GRID_AXES; i++) g.grid.add(new String[] {"", ""});
        return g;
    }

    /** Picks the model and mode the form names, falling back to the first of each. */
    void settle(List<Model> models) {
        Model m = models.stream().filter(x -> x.id().equals(model)).findFirst().orElse(models.getFirst());
        model = m.id();
        if (mode == null || m.mode(mode) == null) mode = m.defaultMode().id();
        while (grid.size() < GRID_AXES) grid.add(new String[] {"", ""});
    }

    List<String> promptList() {
        return prompts.lines().map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    GenerationRequest toRequest(Model m) {
        GenerationRequest.Builder b = GenerationRequest.of(model).mode(mode).origin(GenerationRequest.V1);
        List<String> list = promptList();
        if (!list.isEmpty()) b.prompts(list);
        if (!prompt.isBlank() || list.isEmpty()) b.prompt(prompt.isBlank() && !m.mode(mode).promptRequired() ? null : prompt);
        if (!negativePrompt.isBlank()) b.negativePrompt(negativePrompt);
        b.count(parseCount());
        params.forEach((k, v) -> {
            if (v.isBlank()) return;
            ParamSpec p = m.param(k);
            b.param(k, p == null ? v : typed(p, v));
        });
        images.forEach((k, refs) -> refs.forEach(r -> b.image(k, r)));
        for (String[] axis : grid) {
            if (axis[0].isBlank() || axis[1].isBlank()) continue;
            ParamSpec p = m.param(axis[0]);
            List<Object> values = new ArrayList<>();
            for (String v : axis[1].split(",")) if (!v.isBlank()) values.add(p == null ? v.trim() : typed(p, v.trim()));
            b.grid(axis[0], values);
        }
        return b.build();
    }

    int parseCount() {
        try {
            return Integer.parseInt(count.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The request as the run keeps it (what "use these settings again" reads back). */
    Map<String, Object> received(GenerationRequest r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", r.model());
        m.put("mode", r.mode());
        if (r.prompts().size() == 1) m.put("prompt", r.prompts().getFirst());
        else m.put("prompts", r.prompts());
        if (r.negativePrompt() != null) m.put("negative_prompt", r.negativePrompt());
        m.put("params", r.params());
        if (!r.images().isEmpty()) m.put("images", r.images());
        m.put("count", r.count());
        if (!r.grid().isEmpty()) m.put("grid", r.grid());
        m.put("via", "web");
        return m;
    }

    /** A browser string as the parameter's JSON type; a value that does not parse goes as is, for the core to refuse at its field. */
    static Object typed(ParamSpec p, String v) {
        String s = v.trim();
        try {
            return switch (p.type()) {
                case INTEGER -> Long.parseLong(s);
                case NUMBER -> Double.parseDouble(s);
                case BOOLEAN -> s.equalsIgnoreCase("true") || s.equals("on") ? Boolean.TRUE
                        : s.equalsIgnoreCase("false") || s.equals("off") ? Boolean.FALSE : s;
                case OBJECT -> Json.MAPPER.readValue(s, Object.class);
                case STRING -> v;
            };
        } catch (RuntimeException e) {
            return v;
        }
    }

    /** Files the core's field errors under the form's fields; {@code known} are the field names on the page. */
    void fileErrors(List<FieldError> list, java.util.Set<String> known) {
        for (FieldError e : list) {
            String f = e.field().replaceAll("\\[\\d+]$", "");
            if (f.startsWith("grid.")) {
                String param = f.substring(5);
                boolean placed = false;
                for (int i = 0; i < grid.size(); i++) {
                    if (grid.get(i)[0].equals(param)) {
                        errors.merge("grid" + (i + 1), e.message(), (a, b) -> a + "; " + b);
                        placed = true;
                    }
                }
                if (placed) continue;
                f = "grid";
            }
            if (f.startsWith("params.") && !known.contains(f)) f = "params";
            if (known.contains(f)) errors.merge(f, e.message(), (a, b) -> a + "; " + b);
            else otherErrors.add((e.field().isEmpty() ? "" : e.field() + ": ") + e.message());
        }
    }

    // ---- what the template shows --------------------------------------------------------------

    public String getModel() { return model; }
    public String getMode() { return mode; }
    public String getPrompt() { return prompt; }
    public String getPrompts() { return prompts; }
    public String getNegativePrompt() { return negativePrompt; }
    public String getCount() { return count; }
    public Map<String, String> getErrors() { return errors; }
    public List<String> getOtherErrors() { return otherErrors; }

    public String gridParam(int axis) { return grid.size() >= axis ? grid.get(axis - 1)[0] : ""; }
    public String gridValues(int axis) { return grid.size() >= axis ? grid.get(axis - 1)[1] : ""; }

    /** One parameter input. */
    record Field(String name, String label, String type, String value, String defaultValue, Double min, Double max,
                 List<String> options, boolean locked, String lockedValue, boolean required, String help, String step,
                 String error) {
        public String id() {
            return "f-params-" + name;
        }

        public String inputType() {
            return type.equals("integer") || type.equals("number") ? "number" : "text";
        }
    }

    /** One image input of the mode. */
    record ImageField(String name, int min, int max, List<String> refs, String error) {
        public String id() {
            return "f-images-" + name;
        }

        public List<String> assetIds() {
            return refs.stream().filter(r -> r.startsWith("asset:")).map(r -> r.substring(6)).toList();
        }

        public String urls() {
            return String.join("\n", refs.stream().filter(r -> !r.startsWith("asset:")).toList());
        }
    }

    List<Field> fields(Model m) {
        List<Field> out = new ArrayList<>();
        for (ParamSpec p : m.params()) {
            if (!p.appliesTo(mode)) continue;
            String def = p.defaultFor(mode) == null ? "" : text(p.defaultValue());
            String value = params.containsKey(p.name()) ? params.get(p.name()) : p.locked() != null ? text(p.locked()) : def;
            String step = p.step() != null ? String.valueOf(p.step().multiple()) : p.type() == ParamType.INTEGER ? "1" : "any";
            out.add(new Field(p.name(), p.name().replace('_', ' '), p.type().wire(), value, def, p.min(), p.max(),
                    p.enumValues().stream().map(GenerateForm::text).toList(), p.locked() != null,
                    p.locked() == null ? null : text(p.locked()), p.required(), describe(p), step, errors.get("params." + p.name())));
        }
        return out;
    }

    List<ImageField> imageFields(Model m) {
        ModeSpec ms = m.mode(mode);
        List<ImageField> out = new ArrayList<>();
        for (ImageInputSpec in : ms.images()) {
            if (in.name().equals(ModeSpec.ANY_NAME)) continue;
            out.add(new ImageField(in.name(), in.min(), in.max(), images.getOrDefault(in.name(), List.of()), errors.get("images." + in.name())));
        }
        return out;
    }

    /** Parameters a grid may vary: all that apply to the mode and are not locked. */
    List<String> gridParams(Model m) {
        return m.params().stream().filter(p -> p.appliesTo(mode)).map(ParamSpec::name).toList();
    }

    private static String describe(ParamSpec p) {
        List<String> parts = new ArrayList<>();
        if (p.help() != null) parts.add(p.help());
        if (p.locked() != null) parts.add("locked to " + text(p.locked()));
        else {
            if (p.min() != null || p.max() != null) parts.add("range " + num(p.min()) + "–" + num(p.max()));
            if (p.step() != null) parts.add(p.step().describe());
            if (p.defaultValue() != null) parts.add("default " + text(p.defaultValue()));
        }
        return String.join(" · ", parts);
    }

    private static String num(Double d) {
        if (d == null) return "";
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf(d.longValue()) : String.valueOf(d);
    }

    static String text(Object o) {
        if (o == null) return "";
        if (o instanceof Double d) return num(d);
        if (o instanceof Map || o instanceof List) return Json.write(o);
        return String.valueOf(o);
    }

    // ---- the estimate ---------------------------------------------------------------------------

    /** Jobs, credits and seconds per job before submitting, from the model's cost and ETA rules. */
    record Estimate(long jobs, String cost, String unit, String seconds, String problem) {}

    Estimate estimate(Model m, double sandboxLatencySeconds) {
        GenerationRequest r;
        try {
            r = toRequest(m);
        } catch (RuntimeException e) {
            return new Estimate(0, null, null, null, "fill in the form to see the cost");
        }
        long prompts = Math.max(1, r.prompts().size());
        long cells = 1;
        List<Map<String, Object>> variants = new ArrayList<>();
        variants.add(new LinkedHashMap<>());
        for (var axis : r.grid().entrySet()) {
            cells *= Math.max(1, axis.getValue().size());
            List<Map<String, Object>> next = new ArrayList<>();
            for (Map<String, Object> v : variants) {
                for (Object value : axis.getValue()) {
                    Map<String, Object> c = new LinkedHashMap<>(v);
                    c.put(axis.getKey(), value);
                    next.add(c);
                }
            }
            variants = next;
        }
        long count = Math.max(1, r.count());
        long jobs = prompts * count * cells;
        BigDecimal cost = BigDecimal.ZERO;
        double maxEta = 0;
        try {
            for (Map<String, Object> cell : variants) {
                Map<String, Object> vars = new LinkedHashMap<>();
                for (ParamSpec p : m.params()) if (p.appliesTo(mode) && p.defaultFor(mode) != null) vars.put(p.name(), p.defaultFor(mode));
                vars.putAll(r.params());
                vars.putAll(cell);
                vars.put("sandbox_latency", sandboxLatencySeconds);
                cost = cost.add(BigDecimal.valueOf(Rules.evaluate(m.cost(), vars)));
                maxEta = Math.max(maxEta, Rules.evaluate(m.eta(), vars));
            }
        } catch (RuntimeException e) {
            return new Estimate(jobs, null, null, null, "the cost depends on values that are not valid yet");
        }
        BigDecimal total = cost.multiply(BigDecimal.valueOf(prompts * count)).setScale(2, RoundingMode.HALF_UP);
        String unit = m.cost() == null || m.cost().unit() == null ? "credits" : m.cost().unit();
        return new Estimate(jobs, total.stripTrailingZeros().toPlainString(), unit, String.format(Locale.ROOT, "%.0f", Math.ceil(maxEta)), null);
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}

package dev.kiln.catalog;

import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * Checks a request's parameters against a model's schema and resolves them: defaults filled,
 * locked values enforced, every bad field reported (never just the first).
 */
public final class ParamResolver {
    public static final String SEED = "seed";

    private ParamResolver() {}

    /**
     * @param params the request's {@code params} object (may be null)
     * @param prefix the field prefix for errors, e.g. {@code "params"}
     * @return the resolved parameters of the mode, in schema order
     */
    public static Map<String, Object> resolve(Model model, String mode, JsonNode params, String prefix, List<FieldError> errors) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (params != null && !params.isNull() && !params.isObject()) {
            errors.add(new FieldError(prefix, "must be an object"));
            params = null;
        }
        if (params != null && !params.isNull()) {
            for (String name : params.propertyNames()) {
                ParamSpec spec = model.param(name);
                if (spec == null) {
                    errors.add(new FieldError(prefix + "." + name, "unknown parameter for model " + model.id()
                            + "; known: " + model.params().stream().map(ParamSpec::name).collect(Collectors.joining(", "))));
                } else if (!spec.appliesTo(mode)) {
                    errors.add(new FieldError(prefix + "." + name, "does not apply to mode " + mode
                            + "; it applies to: " + String.join(", ", spec.modes())));
                }
            }
        }
        for (ParamSpec spec : model.params()) {
            if (!spec.appliesTo(mode)) continue;
            JsonNode given = params == null || params.isNull() ? null : params.get(spec.name());
            String field = prefix + "." + spec.name();
            if (given == null || given.isNull()) {
                if (spec.locked() != null) out.put(spec.name(), spec.locked());
                else if (spec.defaultFor(mode) != null) out.put(spec.name(), spec.defaultFor(mode));
                else if (spec.required()) errors.add(new FieldError(field, "is required in mode " + mode + describe(spec)));
                continue;
            }
            Object v = check(spec, given, field, errors);
            if (v != null) out.put(spec.name(), v);
        }
        return out;
    }

    /** Checks one value against its parameter; returns the typed value, or null after adding an error. */
    public static Object check(ParamSpec spec, JsonNode given, String field, List<FieldError> errors) {
        Object v = convert(spec.type(), given);
        if (v == null) {
            errors.add(new FieldError(field, "must be " + article(spec.type()) + describe(spec) + ", got " + Json.write(given)));
            return null;
        }
        if (spec.locked() != null) {
            if (!same(v, spec.locked())) {
                errors.add(new FieldError(field, "is locked to " + Json.write(spec.locked()) + " for this model; send "
                        + Json.write(spec.locked()) + " or leave it out (got " + Json.write(given) + ")"));
                return null;
            }
            return spec.locked();
        }
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if ((spec.min() != null && d < spec.min()) || (spec.max() != null && d > spec.max())) {
                errors.add(new FieldError(field, "must be " + range(spec) + ", got " + Json.write(given)));
                return null;
            }
        }
        if (spec.pattern() != null && v instanceof String text) {
            // The enum values are presets, accepted as they are; anything else must have the pattern's form.
            if (spec.enumValues().stream().anyMatch(e -> same(v, e))) return v;
            List<Long> numbers = spec.pattern().numbers(text);
            if (numbers == null || !spec.pattern().inBounds(numbers)) {
                errors.add(new FieldError(field, "must be " + spec.pattern().describe()
                        + (spec.enumValues().isEmpty() ? "" : ", or one of " + Json.write(spec.enumValues())) + ", got " + Json.write(given)));
                return null;
            }
            return v;
        }
        if (!spec.enumValues().isEmpty() && spec.enumValues().stream().noneMatch(e -> same(v, e))) {
            errors.add(new FieldError(field, "must be one of " + Json.write(spec.enumValues()) + ", got " + Json.write(given)));
            return null;
        }
        if (spec.step() != null && v instanceof Long n && !spec.step().allows(n)) {
            long lo = spec.step().below(n), hi = lo + spec.step().multiple();
            List<String> near = new java.util.ArrayList<>();
            if (spec.min() == null || lo >= spec.min()) near.add(Long.toString(lo));
            if (spec.max() == null || hi <= spec.max()) near.add(Long.toString(hi));
            errors.add(new FieldError(field, "must be " + spec.step().describe() + (near.isEmpty() ? "" : " (nearest: " + String.join(" or ", near) + ")")
                    + ", got " + Json.write(given)));
            return null;
        }
        return v;
    }

    /**
     * Checks the model's {@link AreaRule} over every size a request can produce (its parameters,
     * and each combination of a run's grid values): width and height given both or neither, and
     * no more pixels than the model makes. Sizes below its minimum are raised later ({@link #adjust}).
     */
    public static void checkArea(Model model, Map<String, Object> params, Map<String, List<Object>> grid, String prefix,
                                 List<FieldError> errors) {
        AreaRule area = model.area();
        if (area == null) return;
        // A width or height already refused on its own says enough.
        if (errors.stream().anyMatch(e -> e.field().equals(prefix + "." + area.width()) || e.field().equals(prefix + "." + area.height())
                || e.field().startsWith("grid."))) {
            return;
        }
        List<Object> widths = grid.containsKey(area.width()) ? grid.get(area.width()) : java.util.Collections.singletonList(params.get(area.width()));
        List<Object> heights = grid.containsKey(area.height()) ? grid.get(area.height()) : java.util.Collections.singletonList(params.get(area.height()));
        for (Object w : widths) {
            for (Object h : heights) {
                if ((w == null) != (h == null)) {
                    errors.add(new FieldError(prefix + "." + (w == null ? area.width() : area.height()), "give " + area.width()
                            + " and " + area.height() + " together, or neither (then the model chooses the size)"));
                    return;
                }
                if (w instanceof Number nw && h instanceof Number nh && nw.longValue() * nh.longValue() > area.max()) {
                    errors.add(new FieldError(prefix + "." + area.width(), nw.longValue() + "×" + nh.longValue() + " is "
                            + nw.longValue() * nh.longValue() + " pixels; " + model.id() + " makes at most " + area.max()));
                    return;
                }
            }
        }
    }

    /**
     * Turns checked parameters into what the model will really use, and says what changed: pattern
     * values rounded down as the model rounds them, sizes below the model's minimum raised keeping
     * their aspect ratio. Changes {@code params} in place.
     *
     * @return one note per change, for the job's history
     */
    public static List<String> adjust(Model model, Map<String, Object> params) {
        List<String> notes = new java.util.ArrayList<>();
        for (ParamSpec spec : model.params()) {
            if (spec.pattern() == null || spec.pattern().floorTo() == null || !(params.get(spec.name()) instanceof String v)) continue;
            if (spec.enumValues().stream().anyMatch(e -> same(v, e))) continue;
            String floored = spec.pattern().floored(v);
            if (!floored.equals(v)) {
                params.put(spec.name(), floored);
                notes.add(spec.name() + " " + v + " was sent as " + floored + ": the model rounds each number down to a multiple of "
                        + spec.pattern().floorTo());
            }
        }
        AreaRule area = model.area();
        if (area != null && params.get(area.width()) instanceof Number w && params.get(area.height()) instanceof Number h
                && w.longValue() * h.longValue() < area.min()) {
            ParamSpec ws = model.param(area.width()), hs = model.param(area.height());
            long maxSide = (long) Math.min(ws.max() == null ? Long.MAX_VALUE : ws.max(), hs.max() == null ? Long.MAX_VALUE : hs.max());
            long[] raised = area.raise(w.longValue(), h.longValue(), maxSide);
            params.put(area.width(), raised[0]);
            params.put(area.height(), raised[1]);
            notes.add("size " + w.longValue() + "×" + h.longValue() + " was raised to " + raised[0] + "×" + raised[1] + ": " + model.id()
                    + " makes images of at least " + area.min() + " pixels");
        }
        return notes;
    }

    /** Replaces a seed of -1 by a random seed within the parameter's range; returns the map. */
    public static Map<String, Object> randomizeSeed(Model model, Map<String, Object> params) {
        ParamSpec seed = model.param(SEED);
        if (seed != null && params.get(SEED) instanceof Number n && n.longValue() == -1) {
            long max = seed.max() == null ? Integer.MAX_VALUE : seed.max().longValue();
            params.put(SEED, ThreadLocalRandom.current().nextLong(0, max + 1));
        }
        return params;
    }

    static Object convert(ParamType type, JsonNode n) {
        return switch (type) {
            case INTEGER -> {
                if (n.isIntegralNumber() && n.canConvertToLong()) yield n.longValue();
                if (n.isNumber()) {
                    BigDecimal d = n.decimalValue();
                    yield d.stripTrailingZeros().scale() <= 0 ? d.longValueExact() : null;
                }
                yield null;
            }
            case NUMBER -> n.isNumber() ? n.doubleValue() : null;
            case STRING -> n.isString() ? n.asString() : null;
            case BOOLEAN -> n.isBoolean() ? n.booleanValue() : null;
            case OBJECT -> n.isObject() ? n : null;
        };
    }

    /** Equality that treats 1, 1L and 1.0 alike. */
    public static boolean same(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) return Double.compare(x.doubleValue(), y.doubleValue()) == 0;
        return a != null && a.equals(b);
    }

    private static String describe(ParamSpec spec) {
        if (!spec.enumValues().isEmpty()) return " (one of " + Json.write(spec.enumValues()) + ")";
        if (spec.min() != null || spec.max() != null) return " (" + range(spec) + ")";
        return "";
    }

    private static String range(ParamSpec spec) {
        if (spec.min() != null && spec.max() != null) return "between " + num(spec.min()) + " and " + num(spec.max());
        if (spec.min() != null) return "at least " + num(spec.min());
        return "at most " + num(spec.max());
    }

    private static String num(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private static String article(ParamType t) {
        return switch (t) {
            case INTEGER -> "an integer";
            case NUMBER -> "a number";
            case STRING -> "a string";
            case BOOLEAN -> "true or false";
            case OBJECT -> "an object";
        };
    }
}

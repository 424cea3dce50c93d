package dev.kiln.emulator.replicate;

import dev.kiln.emulator.support.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The input schemas of the real Replicate models the emulator knows ({@code models.json} next to
 * this class, copied from each model's published schema), so that it refuses what they refuse: a
 * field the model does not have, a value of the wrong type, outside its range or its enum, a
 * required field missing. Replicate validates a prediction's input against its version's schema
 * before creating it and answers 422; the messages follow its JSON-schema validator
 * ({@code - input.scale: Must be less than or equal to 10}). Models without a schema (any other
 * {@code owner/name}) accept any input, as before.
 */
final class ReplicateModels {
    /** One model's input schema. */
    record Schema(String model, List<String> versions, List<String> required, Map<String, JsonNode> properties) {}

    private final Map<String, Schema> byModel = new HashMap<>();
    private final Map<String, Schema> byVersion = new HashMap<>();

    private ReplicateModels() {}

    static ReplicateModels load() {
        ReplicateModels m = new ReplicateModels();
        try (InputStream in = ReplicateModels.class.getResourceAsStream("models.json")) {
            if (in == null) throw new IllegalStateException("models.json is missing from the emulator");
            JsonNode root = Json.MAPPER.readTree(in);
            for (Map.Entry<String, JsonNode> e : root.properties()) {
                if (e.getKey().startsWith("_")) continue;
                JsonNode s = e.getValue();
                List<String> versions = new ArrayList<>();
                s.path("versions").forEach(v -> versions.add(v.asString()));
                List<String> required = new ArrayList<>();
                s.path("required").forEach(v -> required.add(v.asString()));
                Map<String, JsonNode> props = new java.util.LinkedHashMap<>();
                s.path("properties").properties().forEach(p -> props.put(p.getKey(), p.getValue()));
                Schema schema = new Schema(e.getKey(), List.copyOf(versions), List.copyOf(required), props);
                m.byModel.put(e.getKey(), schema);
                versions.forEach(v -> m.byVersion.put(v, schema));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    /** The schema of a model (by {@code owner/name}) or of a version (by its id), or null. */
    Schema find(String model, String version) {
        Schema s = version == null ? null : byVersion.get(version);
        return s != null ? s : byModel.get(model);
    }

    /** Every way {@code input} breaks the schema, as {@code "input.field: message"}; empty when it is valid. */
    static List<String> problems(Schema schema, ObjectNode input) {
        List<String> out = new ArrayList<>();
        for (String f : input.propertyNames()) {
            if (!schema.properties().containsKey(f)) out.add("input: Additional property " + f + " is not allowed");
        }
        for (String f : schema.required()) {
            if (!input.has(f)) out.add("input: " + f + " is required");
        }
        for (Map.Entry<String, JsonNode> p : schema.properties().entrySet()) {
            JsonNode v = input.get(p.getKey());
            if (v != null) check("input." + p.getKey(), p.getValue(), v, out);
        }
        return out;
    }

    private static void check(String path, JsonNode prop, JsonNode v, List<String> out) {
        String type = prop.path("type").asString("");
        boolean typeOk = switch (type) {
            case "string" -> v.isString();
            case "integer" -> v.isIntegralNumber() || (v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0);
            case "number" -> v.isNumber();
            case "boolean" -> v.isBoolean();
            case "array" -> v.isArray();
            default -> true;
        };
        if (!typeOk) {
            out.add(path + ": Invalid type. Expected: " + type + ", given: " + given(v));
            return;
        }
        if (prop.has("enum")) {
            boolean in = false;
            for (JsonNode e : prop.get("enum")) in |= e.equals(v);
            if (!in) {
                List<String> allowed = new ArrayList<>();
                prop.get("enum").forEach(e -> allowed.add(e.toString()));
                out.add(path + ": " + path + " must be one of the following: " + String.join(", ", allowed));
            }
        }
        if (v.isNumber()) {
            BigDecimal d = v.decimalValue();
            if (prop.has("minimum") && d.compareTo(prop.get("minimum").decimalValue()) < 0) {
                out.add(path + ": Must be greater than or equal to " + prop.get("minimum"));
            }
            if (prop.has("maximum") && d.compareTo(prop.get("maximum").decimalValue()) > 0) {
                out.add(path + ": Must be less than or equal to " + prop.get("maximum"));
            }
        }
        if ("uri".equals(prop.path("format").asString(null)) && !isUri(v.asString())) {
            out.add(path + ": Does not match format 'uri'");
        }
        if (v.isArray() && prop.has("items")) {
            for (int i = 0; i < v.size(); i++) check(path + "." + i, prop.get("items"), v.get(i), out);
        }
    }

    private static boolean isUri(String s) {
        return s.startsWith("https://") || s.startsWith("http://") || s.startsWith("data:");
    }

    private static String given(JsonNode v) {
        if (v.isNull()) return "null";
        if (v.isString()) return "string";
        if (v.isBoolean()) return "boolean";
        if (v.isIntegralNumber()) return "integer";
        if (v.isNumber()) return "number";
        if (v.isArray()) return "array";
        return "object";
    }

    /**
     * What the model itself does with an input its schema lets through, when that fails the
     * prediction: BiRefNet's predict.py splits {@code resolution} on "x", turns each part into an
     * int and rounds it down to a multiple of 32, so text that is not two numbers, or a number
     * below 32, fails at run time (the prediction ends {@code failed}, it is not refused at create).
     *
     * @return the prediction's error, or null when the model runs
     */
    static String runtimeFailure(Schema schema, ObjectNode input) {
        if (!schema.model().equals("men1scus/birefnet")) return null;
        String resolution = input.path("resolution").asString("");
        if (resolution.isEmpty()) return null;
        String[] parts = resolution.strip().split("x", -1);
        List<Integer> sizes = new ArrayList<>();
        for (String p : parts) {
            try {
                sizes.add(Integer.parseInt(p.strip()) / 32 * 32);
            } catch (NumberFormatException e) {
                return "ValueError: invalid literal for int() with base 10: '" + p + "'";
            }
        }
        if (sizes.size() != 2 || sizes.stream().anyMatch(n -> n <= 0)) {
            return "cv2.error: OpenCV(4.10.0) resize.cpp:4152: error: (-215:Assertion failed) !dsize.empty() in function 'resize'";
        }
        return null;
    }
}

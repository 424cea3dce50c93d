package dev.kiln.compat.mediagen;

import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.catalog.ParamType;
import dev.kiln.job.GenerationRequest;
import dev.kiln.support.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.web.multipart.MultipartFile;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * MediaGen's {@code POST /generate} payload ({@code GenerationPayload} in its integration guide)
 * translated into the core's typed {@link GenerationRequest}. Every field the guide lists is read
 * under its own name; a parameter the chosen model and mode do not use is ignored (MediaGen's UI
 * sends, say, {@code reference_strength} with {@code t2v}), and every value the model does use is
 * checked by the core (a locked {@code steps} or {@code cfg_scale} → 422).
 *
 * @param fields the JSON object, or the multipart/urlencoded form fields as strings
 * @param files multipart file parts by field name ({@code reference_image}, …)
 * @param form whether {@code fields} came from a form (numbers arrive as text)
 */
record GeneratePayload(JsonNode fields, Map<String, MultipartFile> files, boolean form) {
    static final String ORIGIN = "003";
    /** Image outputs MediaGen's UI offers. */
    static final List<String> IMAGE_FORMATS = List.of("png", "jpg");

    /** The translation: the core request, what to keep with the task (images left out), and the model. */
    record Translated(GenerationRequest request, ObjectNode recorded, SeedModel model) {}

    Translated translate(Catalog catalog) {
        if (!fields.isObject()) throw new MediaGenException(400, "invalid_request", "The request body must be a JSON object", null);
        List<String> missing = new ArrayList<>();
        String modelName = text("model");
        String prompt = text("prompt");
        if (modelName == null) missing.add("model");
        if (prompt == null || prompt.isBlank()) missing.add("prompt");
        if (!missing.isEmpty()) {
            throw new MediaGenException(400, "missing_required_fields", "Missing required fields: " + String.join(", ", missing),
                    Map.of("missing", missing));
        }
        SeedModel sm = SeedModel.of(modelName).orElseThrow(() -> new MediaGenException(422, "invalid_model",
                "Unknown model '" + modelName + "'; models: anisora, phr00t, pony, flux",
                Map.of("field", "model", "allowed", List.of("anisora", "phr00t", "pony", "flux"))));
        String type = text("type");
        if (type != null && !type.equals(sm.type())) {
            throw new MediaGenException(422, "invalid_type", "Model " + sm.id() + " makes " + sm.type() + ", not " + type,
                    Map.of("field", "type", "allowed", List.of(sm.type())));
        }
        String mode = text("mode");
        if (mode == null) mode = sm.defaultMode();
        if (!sm.modes().contains(mode)) {
            throw new MediaGenException(422, "invalid_mode", "Model " + sm.id() + " has no mode '" + mode + "'; its modes: "
                    + String.join(", ", sm.modes()), Map.of("field", "mode", "allowed", sm.modes()));
        }
        if (mode.equals("arbitrary_frame")) {
            // docs/PROVIDERS.md ("ComfyUI"): the guide node this mode needs is in no public ComfyUI node pack.
            throw new MediaGenException(422, "unsupported_mode", "Mode arbitrary_frame is not available: the ComfyUI node it needs is not"
                    + " public; use i2v or first_last_frame", Map.of("field", "mode", "allowed", List.of("t2v", "i2v", "first_last_frame")));
        }
        Model model = catalog.find(sm.catalogId()).orElseThrow(() -> new MediaGenException(503, "model_unavailable",
                "Model " + sm.id() + " (" + sm.catalogId() + ") is not in this Kiln's catalogue", null));

        GenerationRequest.Builder b = GenerationRequest.of(sm.catalogId()).mode(mode).prompt(prompt).origin(ORIGIN);
        JsonNode negative = fields.get("negative_prompt");
        if (negative != null && !negative.isNull()) {
            if (!negative.isString()) throw invalid("negative_prompt", "must be a string");
            b.negativePrompt(negative.asString());
        }
        for (ParamSpec p : model.params()) {
            if (!p.appliesTo(mode)) continue;
            JsonNode v = fields.get(p.name());
            if ((v == null || v.isNull()) && p.name().equals("num_frames")) v = fields.get("frames");
            if (v == null || v.isNull() || (form && v.asString().isEmpty())) continue;
            b.param(p.name(), value(p.type(), v));
        }
        int count = batchSize();
        b.count(count);
        if (!sm.video()) {
            String format = text("output_format");
            if (format != null && !IMAGE_FORMATS.contains(format)) {
                throw new MediaGenException(422, "validation_error", "output_format: images are png or jpg, got '" + format + "'",
                        List.of(Map.of("field", "output_format", "message", "must be one of png, jpg")));
            }
            String vae = text("vae");
            if (vae != null && !vae.equalsIgnoreCase(sm.vae())) {
                throw new MediaGenException(422, "validation_error", "vae: " + sm.id() + " uses '" + sm.vae() + "', got '" + vae + "'",
                        List.of(Map.of("field", "vae", "message", "must be '" + sm.vae() + "' (chosen by model)")));
            }
        }
        for (Map.Entry<String, String> in : imageInputs(mode).entrySet()) {
            String ref = image(in.getValue(), mode);
            if (ref == null && in.getKey().equals("first_frame")) ref = image("reference_image", mode);
            if (ref == null) {
                throw new MediaGenException(400, "missing_reference_image", in.getValue() + " is required for mode " + mode,
                        Map.of("field", in.getValue(), "mode", mode));
            }
            b.image(in.getKey(), ref);
        }
        return new Translated(b.build(), recorded(sm, mode, count), sm);
    }

    /** The core image inputs of a mode → the payload field that fills each. */
    private static Map<String, String> imageInputs(String mode) {
        return switch (mode) {
            case "i2v", "img2img" -> Map.of("reference_image", "reference_image");
            case "first_last_frame" -> {
                Map<String, String> m = new LinkedHashMap<>();
                m.put("first_frame", "first_frame_image");
                m.put("last_frame", "last_frame_image");
                yield m;
            }
            default -> Map.of();
        };
    }

    private int batchSize() {
        JsonNode v = fields.get("batch_size");
        if (v == null || v.isNull() || (form && v.asString().isEmpty())) return 1;
        Object n = value(ParamType.INTEGER, v);
        if (!(n instanceof Number num) || num.doubleValue() != Math.rint(num.doubleValue()) || num.longValue() < 1 || num.longValue() > 10_000) {
            throw invalid("batch_size", "must be a whole number of at least 1");
        }
        return num.intValue();
    }

    /** A form value converted to the parameter's type when it reads as one; JSON values go to the core as sent. */
    private Object value(ParamType type, JsonNode v) {
        if (form && v.isString()) {
            String s = v.asString().strip();
            try {
                switch (type) {
                    case INTEGER -> {
                        return s.matches("-?\\d+") ? Long.parseLong(s) : Double.parseDouble(s);
                    }
                    case NUMBER -> {
                        return Double.parseDouble(s);
                    }
                    case BOOLEAN -> {
                        if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) return Boolean.parseBoolean(s);
                    }
                    default -> { }
                }
            } catch (NumberFormatException e) {
                return s;
            }
            return s;
        }
        return Json.MAPPER.treeToValue(v, Object.class);
    }

    /**
     * The image a field holds as a reference the core takes: a URL or data URI as sent, raw
     * base64 or a file part as a data URI of the type its bytes show. Null when the field is absent.
     */
    private String image(String field, String mode) {
        MultipartFile file = files.get(field);
        if (file != null && !file.isEmpty()) {
            try {
                return dataUri(field, file.getBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        JsonNode v = fields.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isString()) throw invalid(field, "must be a URL, a data URI or base64 image data");
        String s = v.asString().strip();
        if (s.isEmpty()) return null;
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://") || lower.startsWith("data:")) return s;
        byte[] bytes;
        try {
            bytes = Base64.getMimeDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw invalid(field, "is neither an http(s) URL, a data URI nor base64 image data");
        }
        return dataUri(field, bytes);
    }

    private static String dataUri(String field, byte[] bytes) {
        String mime = sniff(bytes);
        if (mime == null) throw invalid(field, "is not a PNG, JPEG, WebP or GIF image");
        return "data:" + mime + ";base64," + Base64.getEncoder().encodeToString(bytes);
    }

    /** The image type the first bytes show, or null. */
    static String sniff(byte[] b) {
        if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return "image/png";
        if (b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF) return "image/jpeg";
        if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E' && b[10] == 'B'
                && b[11] == 'P') return "image/webp";
        if (b.length >= 6 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F' && b[3] == '8') return "image/gif";
        return null;
    }

    private static MediaGenException invalid(String field, String message) {
        return new MediaGenException(422, "validation_error", field + ": " + message, List.of(Map.of("field", field, "message", message)));
    }

    /** A string field, or null when absent; anything else is refused. */
    private String text(String field) {
        JsonNode v = fields.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isString()) throw invalid(field, "must be a string");
        return v.asString();
    }

    /** The payload as kept with the task (shown back by /results and /gallery): images are not copied. */
    private ObjectNode recorded(SeedModel sm, String mode, int count) {
        ObjectNode r = Json.object();
        for (String name : fields.propertyNames()) {
            if (MediaGenErrors.IMAGE_FIELDS.containsValue(name)) continue;
            r.set(name, fields.get(name));
        }
        r.put("model", sm.id()).put("type", sm.type()).put("mode", mode).put("batch_size", count);
        List<String> images = new ArrayList<>();
        for (String f : MediaGenErrors.IMAGE_FIELDS.values()) if (fields.has(f) || files.containsKey(f)) images.add(f);
        if (!images.isEmpty()) r.putArray("images_sent").addAll(images.stream().map(s -> (JsonNode) Json.MAPPER.getNodeFactory().stringNode(s)).toList());
        return r;
    }
}

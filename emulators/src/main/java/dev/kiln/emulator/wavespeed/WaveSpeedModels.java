package dev.kiln.emulator.wavespeed;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The input schemas of the real WaveSpeed models the emulator knows, so that it refuses what they
 * refuse (an emulator kinder than the service hides bugs). Sources, per model, in docs/PROVIDERS.md
 * ("WaveSpeed"): WaveSpeed's model pages for the fields and per-side range, ByteDance's limits for
 * the total pixel count. Other model paths (the sandbox's own {@code kiln/...} models) keep the
 * emulator's generic checks.
 */
final class WaveSpeedModels {
    /** Seedream v4.5 refuses outputs outside this many pixels in total (3,686,400 = 2560×1440; 16,777,216 = 4096²). */
    static final long SEEDREAM_MIN_PIXELS = 3_686_400L;
    static final long SEEDREAM_MAX_PIXELS = 16_777_216L;
    /** WaveSpeed's per-side range of {@code size} for Seedream v4.5 and its edit. */
    static final int SEEDREAM_MIN_SIDE = 1024;
    static final int SEEDREAM_MAX_SIDE = 4096;
    static final int SEEDREAM_MAX_IMAGES = 10;
    private static final Pattern SIZE = Pattern.compile("(\\d{1,5})\\*(\\d{1,5})");

    /** One known model: its fields, and whether it edits images (needs {@code images}). */
    record Schema(String model, Set<String> fields, boolean edit, String defaultSize) {}

    private static final Map<String, Schema> KNOWN = Map.of(
            "bytedance/seedream-v4.5", new Schema("bytedance/seedream-v4.5",
                    ordered("prompt", "size", "enable_base64_output", "enable_sync_mode"), false, "2048*2048"),
            "bytedance/seedream-v4.5/edit", new Schema("bytedance/seedream-v4.5/edit",
                    ordered("prompt", "images", "size", "enable_base64_output", "enable_sync_mode"), true, null));

    private WaveSpeedModels() {}

    /** The schema of a model path, or null when the emulator has none (generic checks apply). */
    static Schema find(String model) {
        return KNOWN.get(model);
    }

    /** What a request to a known model asks for. {@code width}/{@code height} are 0 when an edit follows its input image. */
    record Asked(String prompt, int width, int height, List<String> images) {}

    /**
     * Checks a request body against the model's schema.
     *
     * @throws IllegalArgumentException with the message WaveSpeed's 400 carries
     */
    static Asked check(Schema schema, ObjectNode in) {
        for (String f : in.propertyNames()) {
            if (!schema.fields().contains(f)) {
                throw new IllegalArgumentException("unknown parameter '" + f + "' for " + schema.model()
                        + "; its parameters are " + String.join(", ", schema.fields()));
            }
        }
        JsonNode prompt = in.get("prompt");
        if (prompt == null || !prompt.isString() || prompt.asString().isBlank()) throw new IllegalArgumentException("prompt is required");
        int width = 0, height = 0;
        JsonNode size = in.get("size");
        String asked = size == null || size.isNull() ? schema.defaultSize() : size.isString() ? size.asString().trim() : "?";
        if (asked != null) {
            Matcher m = SIZE.matcher(asked);
            if (!m.matches()) throw new IllegalArgumentException("size must be \"WIDTH*HEIGHT\", e.g. \"2048*2048\"");
            width = Integer.parseInt(m.group(1));
            height = Integer.parseInt(m.group(2));
            if (width < SEEDREAM_MIN_SIDE || height < SEEDREAM_MIN_SIDE || width > SEEDREAM_MAX_SIDE || height > SEEDREAM_MAX_SIDE) {
                throw new IllegalArgumentException("size " + asked + " is out of range: each side must be "
                        + SEEDREAM_MIN_SIDE + " to " + SEEDREAM_MAX_SIDE);
            }
            long pixels = (long) width * height;
            if (pixels < SEEDREAM_MIN_PIXELS || pixels > SEEDREAM_MAX_PIXELS) {
                throw new IllegalArgumentException("size " + asked + " has " + pixels + " pixels; " + schema.model()
                        + " makes images of " + SEEDREAM_MIN_PIXELS + " to " + SEEDREAM_MAX_PIXELS + " pixels");
            }
        }
        List<String> images = List.of();
        JsonNode imgs = in.get("images");
        if (schema.edit()) {
            if (imgs == null || imgs.isNull()) throw new IllegalArgumentException("images is required");
            if (!imgs.isArray() || imgs.isEmpty() || imgs.size() > SEEDREAM_MAX_IMAGES) {
                throw new IllegalArgumentException("images must hold 1 to " + SEEDREAM_MAX_IMAGES + " image URLs");
            }
            List<String> urls = new java.util.ArrayList<>();
            for (JsonNode i : imgs) {
                String url = i.isString() ? i.asString() : "";
                if (!(url.startsWith("http://") || url.startsWith("https://") || url.startsWith("data:"))) {
                    throw new IllegalArgumentException("images must be URLs");
                }
                urls.add(url);
            }
            images = List.copyOf(urls);
        }
        for (String flag : new String[] {"enable_base64_output", "enable_sync_mode"}) {
            JsonNode b = in.get(flag);
            if (b != null && !b.isNull() && !b.isBoolean()) throw new IllegalArgumentException(flag + " must be true or false");
        }
        return new Asked(prompt.asString(), width, height, images);
    }

    /**
     * The size an edit without {@code size} makes: the first input image's aspect ratio, scaled
     * into the model's pixel range (and its sides into the per-side range).
     */
    static int[] followInput(int width, int height) {
        double pixels = Math.min(SEEDREAM_MAX_PIXELS, Math.max(SEEDREAM_MIN_PIXELS, (double) width * height));
        double scale = Math.sqrt(pixels / ((double) width * height));
        double w = width * scale, h = height * scale;
        double fit = Math.min(1, SEEDREAM_MAX_SIDE / Math.max(w, h));
        return new int[] {(int) Math.max(1, Math.round(w * fit)), (int) Math.max(1, Math.round(h * fit))};
    }

    private static Set<String> ordered(String... names) {
        return java.util.Collections.unmodifiableSet(new LinkedHashSet<>(List.of(names)));
    }
}

package dev.kiln.catalog;

import java.util.List;

/**
 * What one request selects: e.g. {@code txt2img}, or {@code img2img} with a {@code reference} input.
 *
 * @param promptRequired false for modes that need no prompt (an upscale, a background removal)
 */
public record ModeSpec(String id, List<ImageInputSpec> images, boolean promptRequired) {
    public ModeSpec {
        images = images == null ? List.of() : List.copyOf(images);
    }

    /** Inputs named {@value #ANY_NAME} accept images under any file-like name (e.g. a raw ComfyUI workflow's LoadImage files). */
    public static final String ANY_NAME = "*";

    public ImageInputSpec image(String name) {
        ImageInputSpec exact = images.stream().filter(i -> i.name().equals(name)).findFirst().orElse(null);
        if (exact != null) return exact;
        return name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}") ? images.stream().filter(i -> i.name().equals(ANY_NAME)).findFirst().orElse(null) : null;
    }

    /** Whether images may be given under names of the client's choosing. */
    public boolean anyNames() {
        return images.stream().anyMatch(i -> i.name().equals(ANY_NAME));
    }
}

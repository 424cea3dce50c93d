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

    public ImageInputSpec image(String name) {
        return images.stream().filter(i -> i.name().equals(name)).findFirst().orElse(null);
    }
}

package dev.kiln.emulator.render;

import java.util.Locale;

/**
 * Renders the sandbox's stand-in for a generated image: a colourful pattern whose palette and
 * geometry come from a hash of the prompt and the seed. The same prompt, seed, size and format
 * always give the same bytes. A small caption at the bottom shows the prompt, the seed and the
 * size (grid cells that vary the seed or the size can be told apart by eye), drawn with a built-in
 * pixel font ({@link Caption}: headless machines may lack fonts); the prompt and seed are also
 * embedded as a PNG {@code iTXt} chunk or a JPEG comment with the keyword {@value #MARKER}.
 */
public final class SandboxRenderer {
    /** Marks sandbox output in file metadata. */
    public static final String MARKER = "kiln-sandbox";
    /** Largest side accepted (WaveSpeed's own limit); a 4096² image is already 64 MB of pixels. */
    public static final int MAX_SIDE = 4096;
    private static final int MAX_PROMPT_IN_METADATA = 2000;

    private SandboxRenderer() {}

    /**
     * @param format {@code png}, {@code jpeg} (or {@code jpg}) or {@code webp}
     * @throws IllegalArgumentException for an unknown format or a side outside 1..{@value #MAX_SIDE}
     */
    public static byte[] render(String prompt, long seed, int width, int height, String format) {
        String f = normalize(format);
        if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
            throw new IllegalArgumentException("image sides must be 1.." + MAX_SIDE + ", not " + width + "x" + height);
        }
        String p = prompt == null ? "" : prompt;
        int[] pixels = Pattern.draw(p, seed, width, height);
        Caption.draw(pixels, width, height, java.util.List.of(p, "seed " + seed + "  " + width + "x" + height));
        String note = "seed=" + seed + "\nprompt=" + (p.length() > MAX_PROMPT_IN_METADATA ? p.substring(0, MAX_PROMPT_IN_METADATA) : p);
        return switch (f) {
            case "png" -> PngWriter.write(pixels, width, height, MARKER, note);
            case "jpeg" -> JpegWriter.write(pixels, width, height, MARKER + "\n" + note);
            default -> WebpWriter.write(pixels, width, height);
        };
    }

    /** {@code png}, {@code jpeg} or {@code webp} for a format name, else IllegalArgumentException. */
    public static String normalize(String format) {
        String f = format == null ? "png" : format.toLowerCase(Locale.ROOT);
        return switch (f) {
            case "png" -> "png";
            case "jpeg", "jpg" -> "jpeg";
            case "webp" -> "webp";
            default -> throw new IllegalArgumentException("unsupported image format: " + format);
        };
    }

    /** The MIME type of a (normalized or not) format name. */
    public static String mimeType(String format) {
        return "image/" + normalize(format);
    }

    /** The usual file extension of a format: png, jpeg, webp. */
    public static String extension(String format) {
        return normalize(format);
    }
}

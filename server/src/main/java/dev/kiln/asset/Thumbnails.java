package dev.kiln.asset;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Small previews for galleries: the longest side at most {@link #MAX_SIDE} pixels, aspect kept.
 * An image that already fits needs no thumbnail: it is its own (same hash, no new file).
 *
 * <p>Downscaling halves the image with bilinear filtering until it is within a factor of two of
 * the target, then takes one last bilinear step: each halving averages 2×2 pixels, so the result
 * is close to area averaging at a fraction of its cost. Opaque images become JPEG (small), images
 * with transparency PNG.
 */
final class Thumbnails {
    static final int MAX_SIDE = 256;
    private static final float JPEG_QUALITY = 0.85f;

    /** Encoded thumbnail bytes and their MIME type. */
    record Thumbnail(byte[] bytes, String mime, int width, int height) {}

    private Thumbnails() {}

    /** Whether an image of this size is its own thumbnail. */
    static boolean fits(int width, int height) {
        return width <= MAX_SIDE && height <= MAX_SIDE;
    }

    /** The thumbnail size for an original of this size. */
    static int[] targetSize(int width, int height) {
        double scale = Math.min(1.0, (double) MAX_SIDE / Math.max(width, height));
        return new int[] {
            Math.max(1, (int) Math.round(width * scale)),
            Math.max(1, (int) Math.round(height * scale))
        };
    }

    /**
     * Renders the thumbnail of an original of {@code width}×{@code height} from its decoded
     * pixels (which may already be subsampled, see {@link MediaProbe#decode}).
     */
    static Thumbnail render(BufferedImage decoded, int width, int height) {
        int[] size = targetSize(width, height);
        boolean alpha = decoded.getColorModel().hasAlpha();
        BufferedImage scaled = scale(decoded, size[0], size[1], alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
        return alpha
                ? new Thumbnail(png(scaled), "image/png", size[0], size[1])
                : new Thumbnail(jpeg(scaled), "image/jpeg", size[0], size[1]);
    }

    static BufferedImage scale(BufferedImage src, int targetW, int targetH, int type) {
        BufferedImage cur = src;
        int w = src.getWidth();
        int h = src.getHeight();
        do {
            // Halve while still more than twice too large, then land exactly on the target.
            w = w / 2 >= targetW ? w / 2 : targetW;
            h = h / 2 >= targetH ? h / 2 : targetH;
            cur = draw(cur, w, h, type);
        } while (w != targetW || h != targetH);
        return cur;
    }

    private static BufferedImage draw(BufferedImage src, int w, int h, int type) {
        BufferedImage dst = new BufferedImage(w, h, type);
        Graphics2D g = dst.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(src, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return dst;
    }

    private static byte[] png(BufferedImage img) {
        return encode(img, "png", null);
    }

    private static byte[] jpeg(BufferedImage img) {
        return encode(img, "jpeg", JPEG_QUALITY);
    }

    /** Encodes in memory (ImageIO.write to a stream would go through a temporary file). */
    private static byte[] encode(BufferedImage img, String format, Float quality) {
        ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(ios);
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (quality != null) {
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(quality);
            }
            writer.write(null, new IIOImage(img, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }
}

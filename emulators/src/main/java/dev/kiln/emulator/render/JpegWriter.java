package dev.kiln.emulator.render;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.awt.image.DirectColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Baseline JPEG through the JDK's encoder, with a COM segment spliced in after SOI. */
final class JpegWriter {
    private static final float QUALITY = 0.85f;
    private static final DirectColorModel RGB = new DirectColorModel(24, 0xff0000, 0xff00, 0xff);

    private JpegWriter() {}

    static byte[] write(int[] argb, int width, int height, String comment) {
        // Wrap the pixel array instead of copying it into a new image.
        WritableRaster raster = Raster.createPackedRaster(new DataBufferInt(argb, argb.length), width, height, width,
                RGB.getMasks(), null);
        BufferedImage image = new BufferedImage(RGB, raster, false, null);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream(width * height / 4 + 1024);
        // MemoryCacheImageOutputStream directly: ImageIO.createImageOutputStream may spool to a temp file.
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(QUALITY);
            writer.setOutput(ios);
            writer.write(null, new IIOImage(image, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException("JPEG encoding into memory failed", e);
        } finally {
            writer.dispose();
        }
        byte[] jpeg = out.toByteArray();
        return comment == null ? jpeg : withComment(jpeg, comment);
    }

    /** Inserts a COM (0xFFFE) segment right after the SOI marker; any position before SOS is valid. */
    private static byte[] withComment(byte[] jpeg, String comment) {
        byte[] text = comment.getBytes(StandardCharsets.UTF_8);
        int len = Math.min(text.length, 65533);
        byte[] out = new byte[jpeg.length + 4 + len];
        out[0] = jpeg[0];
        out[1] = jpeg[1];
        out[2] = (byte) 0xff;
        out[3] = (byte) 0xfe;
        out[4] = (byte) ((len + 2) >> 8);
        out[5] = (byte) (len + 2);
        System.arraycopy(text, 0, out, 6, len);
        System.arraycopy(jpeg, 2, out, 6 + len, jpeg.length - 2);
        return out;
    }
}

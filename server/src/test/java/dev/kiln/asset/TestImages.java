package dev.kiln.asset;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/** Real image files for tests, made with ImageIO or written byte by byte where ImageIO cannot. */
final class TestImages {
    private TestImages() {}

    /** A 1×1 lossy WebP (VP8), the one browsers' feature tests use. */
    static final byte[] WEBP_LOSSY_1X1 = Base64.getDecoder().decode("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA");

    static BufferedImage gradient(int w, int h, boolean alpha) {
        BufferedImage img = new BufferedImage(w, h, alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setPaint(new java.awt.GradientPaint(0, 0, new Color(200, 40, 40, alpha ? 120 : 255), w, h, new Color(40, 40, 200, 255)));
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    static byte[] png(int w, int h) {
        return encode(gradient(w, h, false), "png");
    }

    static byte[] pngWithAlpha(int w, int h) {
        return encode(gradient(w, h, true), "png");
    }

    static byte[] jpeg(int w, int h) {
        return encode(gradient(w, h, false), "jpeg");
    }

    static byte[] gif(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.ORANGE);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return encode(img, "gif");
    }

    /** One-pixel black and white checkerboard: any downscale that averages makes it mid grey. */
    static byte[] checkerboardPng(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) img.setRGB(x, y, ((x + y) & 1) == 0 ? 0x000000 : 0xFFFFFF);
        }
        return encode(img, "png");
    }

    static byte[] encode(BufferedImage img, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, format, out)) throw new IllegalStateException("no writer for " + format);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * A PNG whose header says {@code w}×{@code h} but whose pixel data is junk: reading the size
     * works, decoding would fail. Refusing it for its size proves no decoding was attempted.
     */
    static byte[] pngHeaderOnly(int w, int h) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        ByteBuffer ihdr = ByteBuffer.allocate(13);
        ihdr.putInt(w).putInt(h).put((byte) 8).put((byte) 6).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        chunk(out, "IDAT", "not zlib data at all".getBytes(StandardCharsets.US_ASCII));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    /**
     * A lossless WebP (VP8L) of 8×8 blocks alternating between two colours that differ only in
     * green: {@link #WEBP_RGB_A} and {@link #WEBP_RGB_B}. Written by hand (ImageIO has no WebP
     * writer) with the simplest bitstream the format allows: no transforms, no colour cache, and
     * "simple" prefix codes of one symbol for red, blue and alpha and two symbols for green, so
     * every pixel is one bit.
     */
    static byte[] webpLossless(int w, int h) {
        Bits bits = new Bits();
        bits.put(0x2f, 8);                       // VP8L signature
        bits.put(w - 1, 14);
        bits.put(h - 1, 14);
        bits.put(0, 1);                          // alpha_is_used
        bits.put(0, 3);                          // version
        bits.put(0, 1);                          // no transform
        bits.put(0, 1);                          // no colour cache
        bits.put(0, 1);                          // no meta prefix codes
        simpleCode(bits, GREEN_A, GREEN_B);      // green (+ length codes)
        simpleCode(bits, RED);                   // red
        simpleCode(bits, BLUE);                  // blue
        simpleCode(bits, 0xFF);                  // alpha
        bits.put(1, 1);                          // distance: simple code,
        bits.put(0, 1);                          //   one symbol,
        bits.put(0, 1);                          //   written in one bit:
        bits.put(0, 1);                          //   symbol 0
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) bits.put(((x / 8 + y / 8) & 1), 1);
        }
        byte[] data = bits.toByteArray();
        int pad = data.length & 1;
        ByteBuffer riff = ByteBuffer.allocate(20 + data.length + pad).order(ByteOrder.LITTLE_ENDIAN);
        riff.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(4 + 8 + data.length + pad);
        riff.put("WEBP".getBytes(StandardCharsets.US_ASCII));
        riff.put("VP8L".getBytes(StandardCharsets.US_ASCII)).putInt(data.length);
        riff.put(data);
        return riff.array();
    }

    private static final int RED = 0x80;
    private static final int GREEN_A = 0x20;
    private static final int GREEN_B = 0xE0;
    private static final int BLUE = 0x40;
    static final int WEBP_RGB_A = (RED << 16) | (GREEN_A << 8) | BLUE;
    static final int WEBP_RGB_B = (RED << 16) | (GREEN_B << 8) | BLUE;

    private static void simpleCode(Bits bits, int... symbols) {
        bits.put(1, 1);                          // simple code
        bits.put(symbols.length - 1, 1);         // one or two symbols
        bits.put(1, 1);                          // first symbol in 8 bits
        bits.put(symbols[0], 8);
        if (symbols.length == 2) bits.put(symbols[1], 8);
    }

    /** Least significant bit first, as VP8L reads. */
    private static final class Bits {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int acc;
        private int n;

        void put(int value, int count) {
            for (int i = 0; i < count; i++) {
                acc |= ((value >> i) & 1) << n;
                if (++n == 8) {
                    out.write(acc);
                    acc = 0;
                    n = 0;
                }
            }
        }

        byte[] toByteArray() {
            if (n > 0) out.write(acc);
            acc = 0;
            n = 0;
            return out.toByteArray();
        }
    }

    /** The start of an MP4 file: an {@code ftyp} box with brand {@code brand}, then an empty {@code mdat}. */
    static byte[] isoMedia(String brand) {
        ByteBuffer b = ByteBuffer.allocate(32);
        b.putInt(24).put("ftyp".getBytes(StandardCharsets.US_ASCII)).put(brand.getBytes(StandardCharsets.US_ASCII)).putInt(0x200);
        b.put("isomiso2".getBytes(StandardCharsets.US_ASCII));
        b.putInt(8).put("mdat".getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    /** The start of a Matroska file: an EBML header whose DocType is {@code docType}. */
    static byte[] ebml(String docType) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] dt = docType.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(new byte[] {0x1A, 0x45, (byte) 0xDF, (byte) 0xA3, (byte) (0x80 | (dt.length + 3))});
        out.writeBytes(new byte[] {0x42, (byte) 0x82, (byte) (0x80 | dt.length)});
        out.writeBytes(dt);
        out.writeBytes(new byte[] {0x18, 0x53, (byte) 0x80, 0x67, (byte) 0x80});
        return out.toByteArray();
    }
}

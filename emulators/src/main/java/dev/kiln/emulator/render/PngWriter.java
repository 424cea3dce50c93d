package dev.kiln.emulator.render;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.Adler32;
import java.util.zip.CRC32;

/**
 * A minimal truecolour PNG encoder: one IHDR, an optional iTXt, one IDAT, IEND.
 *
 * <p>Speed matters more than size here (the sandbox renders thousands of images in tests), and
 * zlib, even at level 1 or Huffman-only, spent most of the time: about 2–4 ms for a 256² image on
 * a small server. So the IDAT is a zlib stream of one dynamic-Huffman DEFLATE block with literals
 * only, no string matching; after the "Up" filter the sandbox's smooth images still compress to
 * about half, at a fraction of the time.
 */
final class PngWriter {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private PngWriter() {}

    /**
     * @param keyword iTXt keyword (Latin-1, 1–79 chars), or null for no text chunk
     * @param text iTXt text (UTF-8)
     */
    static byte[] write(int[] argb, int width, int height, String keyword, String text) {
        byte[] idat = zlib(filtered(argb, width, height));
        ByteArrayOutputStream out = new ByteArrayOutputStream(idat.length + 256);
        out.writeBytes(SIGNATURE);
        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, width);
        putInt(ihdr, 4, height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // truecolour, no alpha
        chunk(out, "IHDR", ihdr, ihdr.length);
        if (keyword != null) {
            ByteArrayOutputStream t = new ByteArrayOutputStream();
            t.writeBytes(keyword.getBytes(StandardCharsets.ISO_8859_1));
            // NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL
            t.writeBytes(new byte[] {0, 0, 0, 0, 0});
            t.writeBytes(text.getBytes(StandardCharsets.UTF_8));
            chunk(out, "iTXt", t.toByteArray(), t.size());
        }
        chunk(out, "IDAT", idat, idat.length);
        chunk(out, "IEND", new byte[0], 0);
        return out.toByteArray();
    }

    /** DEFLATE's order of code-length code lengths in the block header (RFC 1951, 3.2.7). */
    private static final int[] CODE_LENGTH_ORDER = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

    /** A zlib stream (RFC 1950) holding one final dynamic-Huffman block of literals (RFC 1951). */
    static byte[] zlib(byte[] data) {
        int[] counts = new int[257];
        for (byte b : data) counts[b & 0xff]++;
        counts[256] = 1; // end of block
        int[] litLengths = Huffman.lengths(counts, 15);
        int[] litCodes = Huffman.codes(litLengths);
        // HLIT = 257 literal/length lengths, then HDIST = 1 distance length: one 1-bit code that is
        // never used, which RFC 1951 allows and every inflater accepts (all-zero is less portable).
        int[] all = new int[258];
        System.arraycopy(litLengths, 0, all, 0, 257);
        all[257] = 1;
        int[] tokens = Huffman.tokenize(all);
        int[] clLengths = Huffman.codeLengthCode(tokens);
        int hclen = 19;
        while (hclen > 4 && clLengths[CODE_LENGTH_ORDER[hclen - 1]] == 0) hclen--;

        BitWriter w = new BitWriter(data.length / 2 + 1024);
        w.write(0x78, 8); // deflate, 32 KiB window
        w.write(0x01, 8); // no dictionary, check bits
        w.write(1, 1); // final block
        w.write(2, 2); // dynamic Huffman
        w.write(0, 5); // HLIT - 257
        w.write(0, 5); // HDIST - 1
        w.write(hclen - 4, 4);
        for (int i = 0; i < hclen; i++) w.write(clLengths[CODE_LENGTH_ORDER[i]], 3);
        Huffman.writeTokens(w, tokens, clLengths);
        // Two codes (≤ 15 bits each) per write call: this loop is most of the encoding time.
        int i = 0;
        for (int end = data.length - 1; i < end; i += 2) {
            int s = data[i] & 0xff, t = data[i + 1] & 0xff;
            int ls = litLengths[s];
            w.write(litCodes[s] | litCodes[t] << ls, ls + litLengths[t]);
        }
        if (i < data.length) w.write(litCodes[data[i] & 0xff], litLengths[data[i] & 0xff]);
        w.write(litCodes[256], litLengths[256]);
        w.align();
        Adler32 adler = new Adler32();
        adler.update(data);
        int a = (int) adler.getValue();
        w.bytes((byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a);
        return w.toByteArray();
    }

    /** Rows with the "Up" filter: smooth vertical gradients become runs of small values. */
    private static byte[] filtered(int[] argb, int width, int height) {
        int stride = 1 + 3 * width;
        byte[] raw = new byte[stride * height];
        for (int y = 0; y < height; y++) {
            int o = y * stride;
            int p = y * width;
            if (y == 0) {
                raw[o++] = 0; // None
                for (int x = 0; x < width; x++) {
                    int c = argb[p + x];
                    raw[o++] = (byte) (c >> 16);
                    raw[o++] = (byte) (c >> 8);
                    raw[o++] = (byte) c;
                }
            } else {
                raw[o++] = 2; // Up
                int q = p - width;
                for (int x = 0; x < width; x++) {
                    int c = argb[p + x], u = argb[q + x];
                    raw[o++] = (byte) ((c >> 16) - (u >> 16));
                    raw[o++] = (byte) ((c >> 8) - (u >> 8));
                    raw[o++] = (byte) (c - u);
                }
            }
        }
        return raw;
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data, int len) {
        byte[] head = new byte[8];
        putInt(head, 0, len);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, head, 4, 4);
        out.writeBytes(head);
        out.write(data, 0, len);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data, 0, len);
        byte[] c = new byte[4];
        putInt(c, 0, (int) crc.getValue());
        out.writeBytes(c);
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }
}

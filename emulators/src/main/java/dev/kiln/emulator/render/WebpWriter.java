package dev.kiln.emulator.render;

/**
 * A small WebP lossless (VP8L) encoder. The JDK cannot write WebP and the Java encoders on Maven
 * Central all wrap native libwebp, which a self-hosted gateway should not need for test images.
 *
 * <p>Bitstream (WebP lossless spec, RFC 9649): the subtract-green transform, then a predictor
 * transform with one mode for the whole image (ClampAddSubtractFull, i.e. L + T − TL, good for
 * smooth gradients), no colour cache, no meta prefix codes, no backward references; one Huffman
 * code per channel. That is a fraction of libwebp's compression but valid, fast and deterministic.
 */
final class WebpWriter {
    private static final int[] CODE_LENGTH_ORDER = {17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    private static final int GREEN_ALPHABET = 256 + 24; // literals + length prefixes, no colour cache
    private static final int DISTANCE_ALPHABET = 40;
    private static final int TRANSFORM_PREDICTOR = 0;
    private static final int TRANSFORM_SUBTRACT_GREEN = 2;
    private static final int MODE_CLAMP_ADD_SUBTRACT_FULL = 12;
    /** Predictor blocks of 512×512 pixels (the largest allowed): the mode image stays tiny. */
    private static final int PREDICTOR_BITS = 9;
    static final int MAX_SIZE = 16384;

    private WebpWriter() {}

    static byte[] write(int[] argb, int width, int height) {
        if (width < 1 || height < 1 || width > MAX_SIZE || height > MAX_SIZE) {
            throw new IllegalArgumentException("WebP lossless sizes are 1.." + MAX_SIZE + ", not " + width + "x" + height);
        }
        int n = width * height;
        int[] px = new int[n];
        for (int i = 0; i < n; i++) {
            int c = argb[i] | 0xff000000;
            int g = (c >> 8) & 0xff;
            px[i] = (c & 0xff00ff00) | ((((c >> 16) - g) & 0xff) << 16) | ((c - g) & 0xff);
        }

        int[] res = new int[n];
        int[] green = new int[GREEN_ALPHABET], red = new int[256], blue = new int[256], alpha = new int[256];
        for (int y = 0; y < height; y++) {
            int row = y * width;
            for (int x = 0; x < width; x++) {
                int i = row + x;
                int pred;
                if (y == 0) pred = x == 0 ? 0xff000000 : px[i - 1];
                else if (x == 0) pred = px[i - width];
                else pred = clampAddSubtractFull(px[i - 1], px[i - width], px[i - width - 1]);
                int r = subPixels(px[i], pred);
                res[i] = r;
                green[(r >> 8) & 0xff]++;
                red[(r >> 16) & 0xff]++;
                blue[r & 0xff]++;
                alpha[r >>> 24]++;
            }
        }

        BitWriter w = new BitWriter(n + 1024);
        w.write(0x2f, 8); // VP8L signature
        w.write(width - 1, 14);
        w.write(height - 1, 14);
        w.write(0, 1); // alpha_is_used: every pixel is opaque
        w.write(0, 3); // version

        w.write(1, 1);
        w.write(TRANSFORM_SUBTRACT_GREEN, 2);
        w.write(1, 1);
        w.write(TRANSFORM_PREDICTOR, 2);
        w.write(PREDICTOR_BITS - 2, 3);
        // The mode sub-image: every block uses one mode, kept in green; one-symbol codes cost zero bits per pixel.
        w.write(0, 1); // no colour cache
        writeSingle(w, MODE_CLAMP_ADD_SUBTRACT_FULL);
        writeSingle(w, 0);
        writeSingle(w, 0);
        writeSingle(w, 0);
        writeSingle(w, 0);
        w.write(0, 1); // no more transforms

        w.write(0, 1); // no colour cache
        w.write(0, 1); // no meta prefix codes
        Code g = writeCode(w, green);
        Code r = writeCode(w, red);
        Code b = writeCode(w, blue);
        Code a = writeCode(w, alpha);
        writeSingle(w, 0); // distances: unused

        for (int c : res) {
            int gs = (c >> 8) & 0xff, rs = (c >> 16) & 0xff, bs = c & 0xff, as = c >>> 24;
            // Two codes (≤ 15 bits each) per write call.
            int lg = g.lengths[gs], lb = b.lengths[bs];
            w.write(g.codes[gs] | r.codes[rs] << lg, lg + r.lengths[rs]);
            w.write(b.codes[bs] | a.codes[as] << lb, lb + a.lengths[as]);
        }
        byte[] vp8l = w.toByteArray();
        return riff(vp8l);
    }

    /** Per-channel (a − b) mod 256 on packed ARGB, two channels at a time. */
    private static int subPixels(int a, int b) {
        int ag = 0x00ff00ff + (a & 0xff00ff00) - (b & 0xff00ff00);
        int rb = 0xff00ff00 + (a & 0x00ff00ff) - (b & 0x00ff00ff);
        return (ag & 0xff00ff00) | (rb & 0x00ff00ff);
    }

    private static int clampAddSubtractFull(int l, int t, int tl) {
        return clamp((l >>> 24) + (t >>> 24) - (tl >>> 24)) << 24
                | clamp(((l >> 16) & 0xff) + ((t >> 16) & 0xff) - ((tl >> 16) & 0xff)) << 16
                | clamp(((l >> 8) & 0xff) + ((t >> 8) & 0xff) - ((tl >> 8) & 0xff)) << 8
                | clamp((l & 0xff) + (t & 0xff) - (tl & 0xff));
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    private record Code(int[] lengths, int[] codes) {}

    /** A "simple" prefix code of one 8-bit symbol: it is then implied and costs no bits. */
    private static void writeSingle(BitWriter w, int symbol) {
        w.write(1, 1); // simple code
        w.write(0, 1); // one symbol
        w.write(1, 1); // 8-bit symbol
        w.write(symbol, 8);
    }

    private static Code writeCode(BitWriter w, int[] counts) {
        int used = 0, last = 0;
        for (int s = 0; s < counts.length; s++) {
            if (counts[s] > 0) {
                used++;
                last = s;
            }
        }
        if (used <= 1 && last < 256) {
            writeSingle(w, last);
            return new Code(new int[counts.length], new int[counts.length]);
        }
        int[] lengths = Huffman.lengths(counts, 15);
        int[] tokens = Huffman.tokenize(lengths);
        int[] clLengths = Huffman.codeLengthCode(tokens);
        int num = 19;
        while (num > 4 && clLengths[CODE_LENGTH_ORDER[num - 1]] == 0) num--;

        w.write(0, 1); // normal code
        w.write(num - 4, 4);
        for (int i = 0; i < num; i++) w.write(clLengths[CODE_LENGTH_ORDER[i]], 3);
        w.write(0, 1); // code lengths for the whole alphabet follow
        Huffman.writeTokens(w, tokens, clLengths);
        return new Code(lengths, Huffman.codes(lengths));
    }

    private static byte[] riff(byte[] vp8l) {
        int pad = vp8l.length & 1;
        byte[] out = new byte[20 + vp8l.length + pad];
        ascii(out, 0, "RIFF");
        le32(out, 4, 12 + vp8l.length + pad);
        ascii(out, 8, "WEBP");
        ascii(out, 12, "VP8L");
        le32(out, 16, vp8l.length);
        System.arraycopy(vp8l, 0, out, 20, vp8l.length);
        return out;
    }

    private static void ascii(byte[] b, int off, String s) {
        for (int i = 0; i < 4; i++) b[off + i] = (byte) s.charAt(i);
    }

    private static void le32(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }
}

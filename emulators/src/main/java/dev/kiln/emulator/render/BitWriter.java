package dev.kiln.emulator.render;

import java.util.Arrays;

/** Least-significant-bit-first bit packing, as both DEFLATE and WebP lossless read it. */
final class BitWriter {
    private byte[] buf;
    private int pos;
    private long acc;
    private int bits;

    BitWriter(int capacity) {
        buf = new byte[Math.max(64, capacity)];
    }

    /** Writes the low {@code count} bits of {@code value}, {@code count} ≤ 32. */
    void write(int value, int count) {
        acc |= (value & ((1L << count) - 1)) << bits;
        bits += count;
        if (bits >= 32) {
            if (pos + 4 > buf.length) grow(4);
            buf[pos++] = (byte) acc;
            buf[pos++] = (byte) (acc >>> 8);
            buf[pos++] = (byte) (acc >>> 16);
            buf[pos++] = (byte) (acc >>> 24);
            acc >>>= 32;
            bits -= 32;
        }
    }

    /** Pads to a byte boundary with zero bits. */
    void align() {
        while (bits > 0) {
            if (pos + 1 > buf.length) grow(1);
            buf[pos++] = (byte) acc;
            acc >>>= 8;
            bits = Math.max(0, bits - 8);
        }
        acc = 0;
    }

    /** Appends whole bytes; the writer must be aligned. */
    void bytes(byte... b) {
        if (bits != 0) throw new IllegalStateException("not byte-aligned");
        if (pos + b.length > buf.length) grow(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
    }

    byte[] toByteArray() {
        align();
        return Arrays.copyOf(buf, pos);
    }

    private void grow(int n) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
    }
}

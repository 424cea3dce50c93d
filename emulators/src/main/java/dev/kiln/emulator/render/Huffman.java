package dev.kiln.emulator.render;

import java.util.Arrays;
import java.util.PriorityQueue;

/** Length-limited canonical prefix codes, as DEFLATE and WebP lossless both use them. */
final class Huffman {
    private Huffman() {}

    /**
     * Code lengths for the given symbol counts, none longer than {@code maxBits}. Unused symbols get
     * length 0. With two or more used symbols the code is complete (what strict decoders require);
     * a single used symbol gets length 1 and the caller must code it specially.
     */
    static int[] lengths(int[] counts, int maxBits) {
        int[] len = new int[counts.length];
        int used = 0;
        for (int c : counts) if (c > 0) used++;
        if (used == 0) return len;
        if (used == 1) {
            for (int i = 0; i < counts.length; i++) if (counts[i] > 0) len[i] = 1;
            return len;
        }
        // Too deep a tree: raise the smallest counts and build again, which flattens it (as libwebp does).
        for (long floor = 1; ; floor *= 2) {
            if (build(counts, floor, len) <= maxBits) return len;
        }
    }

    /** Builds a Huffman tree over max(count, floor) and writes each leaf's depth; returns the maximum depth. */
    private static int build(int[] counts, long floor, int[] len) {
        int n = counts.length;
        int[] parent = new int[2 * n];
        // Ordered by weight, then node index: deterministic ties give identical bytes on every run.
        PriorityQueue<long[]> heap = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        for (int i = 0; i < n; i++) {
            if (counts[i] > 0) heap.add(new long[] {Math.max(counts[i], floor), i});
        }
        int next = n;
        while (heap.size() > 1) {
            long[] a = heap.poll(), b = heap.poll();
            parent[(int) a[1]] = next;
            parent[(int) b[1]] = next;
            heap.add(new long[] {a[0] + b[0], next});
            next++;
        }
        int root = next - 1;
        int max = 0;
        for (int i = 0; i < n; i++) {
            if (counts[i] == 0) {
                len[i] = 0;
                continue;
            }
            int d = 0;
            for (int p = i; p != root; p = parent[p]) d++;
            len[i] = d;
            max = Math.max(max, d);
        }
        return max;
    }

    /** Canonical codes for the lengths, bit-reversed so they can be written least significant bit first. */
    static int[] codes(int[] len) {
        int[] count = new int[16];
        for (int l : len) if (l > 0) count[l]++;
        int[] next = new int[16];
        int code = 0;
        for (int bits = 1; bits < 16; bits++) {
            code = (code + count[bits - 1]) << 1;
            next[bits] = code;
        }
        int[] codes = new int[len.length];
        for (int s = 0; s < len.length; s++) {
            int l = len[s];
            if (l > 0) codes[s] = Integer.reverse(next[l]++) >>> (32 - l);
        }
        return codes;
    }

    /**
     * Code lengths as code-length symbols (the same 19-symbol alphabet in DEFLATE and
     * WebP lossless): 0–15 literally, 16 = repeat the previous length 3–6
     * times, 17 = 3–10 zeros, 18 = 11–138 zeros. Each token is {@code symbol | extraBits << 8}.
     */
    static int[] tokenize(int[] lengths) {
        int[] out = new int[lengths.length];
        int k = 0;
        for (int i = 0; i < lengths.length; ) {
            int v = lengths[i];
            int run = 1;
            while (i + run < lengths.length && lengths[i + run] == v) run++;
            i += run;
            if (v == 0) {
                while (run >= 11) {
                    int m = Math.min(run, 138);
                    out[k++] = 18 | (m - 11) << 8;
                    run -= m;
                }
                if (run >= 3) {
                    out[k++] = 17 | (run - 3) << 8;
                    run = 0;
                }
            } else {
                out[k++] = v;
                run--;
                while (run >= 3) {
                    int m = Math.min(run, 6);
                    out[k++] = 16 | (m - 3) << 8;
                    run -= m;
                }
            }
            while (run-- > 0) out[k++] = v;
        }
        return Arrays.copyOf(out, k);
    }

    /** Lengths of the code that codes the tokens; never a one-symbol code, which decoders special-case. */
    static int[] codeLengthCode(int[] tokens) {
        int[] counts = new int[19];
        for (int t : tokens) counts[t & 0xff]++;
        int used = 0;
        for (int c : counts) if (c > 0) used++;
        if (used < 2) counts[counts[0] == 0 ? 0 : 1]++;
        return lengths(counts, 7);
    }

    /** Writes tokens from {@link #tokenize} with the code-length code and their repeat counts. */
    static void writeTokens(BitWriter w, int[] tokens, int[] clLengths) {
        int[] clCodes = codes(clLengths);
        for (int t : tokens) {
            int sym = t & 0xff, extra = t >>> 8;
            w.write(clCodes[sym], clLengths[sym]);
            switch (sym) {
                case 16 -> w.write(extra, 2);
                case 17 -> w.write(extra, 3);
                case 18 -> w.write(extra, 7);
                default -> { }
            }
        }
    }
}

package dev.kiln.emulator.render;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.SplittableRandom;

/**
 * Draws a colourful plasma with a few discs and frames on top. Every parameter (wave frequencies
 * and phases, palette, shape positions) comes from a SHA-256 of the prompt and the seed, so two
 * prompts or two seeds give clearly different pictures while a repeat gives identical pixels.
 *
 * <p>Everything is integer arithmetic over lookup tables, one pass over an {@code int[]}: the
 * sandbox renders thousands of images in tests and benchmarks and must not be the bottleneck.
 */
final class Pattern {
    private static final int TABLE_BITS = 10;
    private static final int TABLE_MASK = (1 << TABLE_BITS) - 1;
    /** One full sine period over 1024 entries, amplitude 256. */
    private static final int[] SIN = new int[1 << TABLE_BITS];
    /** Phases are 16.16 fixed point in table units. */
    private static final int PERIOD = 1 << (TABLE_BITS + 16);

    // StrictMath: the same bytes on every JVM and CPU, not just on this one.
    static {
        for (int i = 0; i < SIN.length; i++) {
            SIN[i] = (int) Math.round(256 * StrictMath.sin(2 * Math.PI * i / SIN.length));
        }
    }

    private Pattern() {}

    /** Opaque ARGB pixels, row by row. */
    static int[] draw(String prompt, long seed, int width, int height) {
        Scene scene = new Scene(prompt, seed, width, height);
        int[] out = new int[width * height];
        scene.indices(0, 1, out);
        int[] palette = scene.palette;
        for (int i = 0; i < out.length; i++) out[i] = palette[out[i] & 255];
        return out;
    }

    /**
     * Everything random about one picture, drawn once, so that a video can render many frames of
     * it: frame {@code f} of {@code n} moves the waves, the shapes and the palette along loops that
     * close after {@code n} frames (a GIF or a looping video has no seam). Frame 0 is exactly the
     * still image {@link #draw} makes. The motion comes from a second random stream, so adding it
     * changed no still image.
     */
    static final class Scene {
        final int width;
        final int height;
        /** 256 opaque ARGB colours; {@link #indices} gives indices into it. */
        final int[] palette;
        private final int[] colWave;
        private final int stepY, phaseY, diagX, diagY, diagPhase, ringPhase, bands;
        private final double ringStep;
        private final int cx, cy;
        private final long[] dx2;
        private final Shape[] shapes;
        // Motion: whole cycles per clip for each wave, shape orbits, palette turns.
        private final int colCycles, rowCycles, diagCycles, ringCycles, paletteTurns;
        private final int[] orbitX, orbitY;
        private final double[] orbitPhase;

        Scene(String prompt, long seed, int width, int height) {
            this.width = width;
            this.height = height;
            long h = hash(prompt, seed);
            SplittableRandom rnd = new SplittableRandom(h);
            palette = palette(rnd);

            // Four waves: along x, along y, diagonal, and rings around a centre.
            colWave = new int[width];
            int stepX = step(rnd, 0.5, 2.5, width);
            int phase = rnd.nextInt();
            for (int x = 0; x < width; x++, phase += stepX) colWave[x] = phase;
            stepY = step(rnd, 0.5, 2.5, height);
            phaseY = rnd.nextInt();
            diagX = step(rnd, 0.5, 3.0, width) * (rnd.nextBoolean() ? 1 : -1);
            diagY = step(rnd, 0.5, 3.0, height);
            diagPhase = rnd.nextInt();
            double diagonal = Math.sqrt((double) width * width + (double) height * height);
            ringStep = (rnd.nextDouble(1.5, 5.0) * PERIOD) / diagonal;
            ringPhase = rnd.nextInt();
            cx = rnd.nextInt(width);
            cy = rnd.nextInt(height);
            dx2 = new long[width];
            for (int x = 0; x < width; x++) dx2[x] = (long) (x - cx) * (x - cx);
            bands = 1 + rnd.nextInt(2);
            shapes = shapes(rnd, width, height);

            SplittableRandom motion = new SplittableRandom(h ^ 0x9E3779B97F4A7C15L);
            colCycles = cycles(motion);
            rowCycles = cycles(motion);
            diagCycles = cycles(motion);
            ringCycles = cycles(motion);
            paletteTurns = motion.nextInt(2);
            orbitX = new int[shapes.length];
            orbitY = new int[shapes.length];
            orbitPhase = new double[shapes.length];
            for (int i = 0; i < shapes.length; i++) {
                orbitX[i] = (int) (width * motion.nextDouble(0.03, 0.15));
                orbitY[i] = (int) (height * motion.nextDouble(0.03, 0.15));
                orbitPhase[i] = motion.nextDouble(2 * Math.PI);
            }
        }

        private static int cycles(SplittableRandom motion) {
            int c = 1 + motion.nextInt(2);
            return motion.nextBoolean() ? c : -c;
        }

        /** Palette indices (0..255 once masked) of frame {@code frame} of {@code frames}, row by row, into {@code out}. */
        void indices(int frame, int frames, int[] out) {
            int colShift = shift(colCycles, frame, frames);
            int rowShift = shift(rowCycles, frame, frames);
            int diagShift = shift(diagCycles, frame, frames);
            int ringShift = shift(ringCycles, frame, frames) + ringPhase;
            int paletteShift = (int) ((long) paletteTurns * 256 * frame / frames);
            Shape[] moved = frame == 0 ? shapes : moved(frame, frames);
            for (int y = 0; y < height; y++) {
                int rowWave = SIN[((phaseY + y * stepY + rowShift) >>> 16) & TABLE_MASK];
                long dy2 = (long) (y - cy) * (y - cy);
                int d = diagPhase + y * diagY + diagShift;
                int base = y * width;
                for (int x = 0; x < width; x++, d += diagX) {
                    int ring = (int) (Math.sqrt(dx2[x] + dy2) * ringStep) + ringShift;
                    int v = SIN[((colWave[x] + colShift) >>> 16) & TABLE_MASK] + rowWave
                            + SIN[(d >>> 16) & TABLE_MASK] + SIN[(ring >>> 16) & TABLE_MASK];
                    out[base + x] = ((v + 1024) * bands) >> 3;
                }
                for (Shape s : moved) s.apply(out, base, y, width);
                if (paletteShift != 0) for (int x = 0; x < width; x++) out[base + x] += paletteShift;
            }
        }

        /** ARGB pixels of one frame. */
        int[] argb(int frame, int frames) {
            int[] out = new int[width * height];
            indices(frame, frames, out);
            for (int i = 0; i < out.length; i++) out[i] = palette[out[i] & 255];
            return out;
        }

        private static int shift(int cycles, int frame, int frames) {
            return (int) ((long) cycles * PERIOD * frame / frames);
        }

        private Shape[] moved(int frame, int frames) {
            Shape[] out = new Shape[shapes.length];
            double t = 2 * Math.PI * frame / frames;
            for (int i = 0; i < shapes.length; i++) {
                int dx = (int) Math.round(orbitX[i] * (StrictMath.cos(t + orbitPhase[i]) - StrictMath.cos(orbitPhase[i])));
                int dy = (int) Math.round(orbitY[i] * (StrictMath.sin(t + orbitPhase[i]) - StrictMath.sin(orbitPhase[i])));
                out[i] = shapes[i].moved(dx, dy);
            }
            return out;
        }
    }

    /** A fixed-point phase step giving between {@code min} and {@code max} periods over {@code size} pixels. */
    private static int step(SplittableRandom rnd, double min, double max, int size) {
        return (int) (rnd.nextDouble(min, max) * PERIOD / size);
    }

    /** A cyclic cosine palette (colour(t) = a + b·cos(2π(f·t + p)) per channel), smooth across the wrap. */
    private static int[] palette(SplittableRandom rnd) {
        double[] a = new double[3], b = new double[3], p = new double[3];
        int[] f = new int[3];
        for (int c = 0; c < 3; c++) {
            a[c] = rnd.nextDouble(0.35, 0.65);
            b[c] = rnd.nextDouble(0.25, 0.5);
            f[c] = 1 + rnd.nextInt(3);
            p[c] = rnd.nextDouble();
        }
        int[] palette = new int[256];
        for (int i = 0; i < 256; i++) {
            double t = i / 256.0;
            int rgb = 0xff;
            for (int c = 0; c < 3; c++) {
                int v = (int) Math.round(255 * (a[c] + b[c] * StrictMath.cos(2 * Math.PI * (f[c] * t + p[c]))));
                rgb = (rgb << 8) | Math.clamp(v, 0, 255);
            }
            palette[i] = rgb;
        }
        return palette;
    }

    private static Shape[] shapes(SplittableRandom rnd, int width, int height) {
        int n = 2 + rnd.nextInt(4);
        Shape[] shapes = new Shape[n];
        int small = Math.min(width, height);
        for (int i = 0; i < n; i++) {
            int shift = 64 + rnd.nextInt(128);
            if (rnd.nextInt(3) == 0) {
                int w = Math.max(1, (int) (width * rnd.nextDouble(0.1, 0.4)));
                int h = Math.max(1, (int) (height * rnd.nextDouble(0.1, 0.4)));
                int x0 = rnd.nextInt(Math.max(1, width - w));
                int y0 = rnd.nextInt(Math.max(1, height - h));
                int border = Math.max(1, small / 40);
                shapes[i] = new Frame(x0, y0, x0 + w, y0 + h, border, shift);
            } else {
                int r = Math.max(1, (int) (small * rnd.nextDouble(0.05, 0.25)));
                int inner = rnd.nextBoolean() ? (int) (r * rnd.nextDouble(0.4, 0.8)) : 0;
                shapes[i] = new Disc(rnd.nextInt(width), rnd.nextInt(height), r, inner, shift);
            }
        }
        return shapes;
    }

    /** Shifts the palette index of the pixels it covers in one row. */
    private sealed interface Shape {
        void apply(int[] idx, int base, int y, int width);

        Shape moved(int dx, int dy);
    }

    private record Disc(int cx, int cy, int r, int inner, int shift) implements Shape {
        @Override
        public Shape moved(int dx, int dy) {
            return new Disc(cx + dx, cy + dy, r, inner, shift);
        }

        @Override
        public void apply(int[] idx, int base, int y, int width) {
            long dy2 = (long) (y - cy) * (y - cy);
            long r2 = (long) r * r;
            if (dy2 > r2) return;
            int half = (int) Math.sqrt((double) (r2 - dy2));
            long in2 = (long) inner * inner;
            int from = Math.max(0, cx - half), to = Math.min(width - 1, cx + half);
            for (int x = from; x <= to; x++) {
                if (inner > 0 && (long) (x - cx) * (x - cx) + dy2 < in2) continue;
                idx[base + x] += shift;
            }
        }
    }

    private record Frame(int x0, int y0, int x1, int y1, int border, int shift) implements Shape {
        @Override
        public Shape moved(int dx, int dy) {
            return new Frame(x0 + dx, y0 + dy, x1 + dx, y1 + dy, border, shift);
        }

        @Override
        public void apply(int[] idx, int base, int y, int width) {
            if (y < y0 || y >= y1) return;
            boolean edgeRow = y < y0 + border || y >= y1 - border;
            int to = Math.min(x1, width);
            for (int x = Math.max(0, x0); x < to; x++) {
                if (edgeRow || x < x0 + border || x >= x1 - border) idx[base + x] += shift;
            }
        }
    }

    private static long hash(String prompt, long seed) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(prompt.getBytes(StandardCharsets.UTF_8));
            md.update(ByteBuffer.allocate(8).putLong(seed).array());
            return ByteBuffer.wrap(md.digest()).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}

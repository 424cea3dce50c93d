package dev.kiln.catalog;

/**
 * A model's limits on the total pixel count of its output (width × height), beyond the range of
 * each side: Seedream v4.5 makes images of 3,686,400 to 16,777,216 pixels. A size below
 * {@code min} is raised keeping its aspect ratio (the job records the size sent, and why); one
 * above {@code max} is refused. Width and height are given both or neither (a mode may leave the
 * size to the model, e.g. an edit that follows its input image).
 *
 * @param width the name of the width parameter
 * @param height the name of the height parameter
 */
public record AreaRule(String width, String height, long min, long max, String help) {

    public AreaRule {
        if (min < 1 || max < min) throw new IllegalArgumentException("area needs 1 <= min <= max");
    }

    /**
     * The smallest size of at least {@code min} pixels with this aspect ratio, each side kept
     * within {@code maxSide} (the parameter's own maximum), or the size itself when it is large
     * enough.
     */
    long[] raise(long w, long h, long maxSide) {
        if (w * h >= min) return new long[] {w, h};
        double scale = Math.sqrt((double) min / ((double) w * h));
        long nw = (long) Math.ceil(w * scale), nh = (long) Math.ceil(h * scale);
        // Rounding up each side keeps the product at or above min; a side that would pass its
        // maximum stays at it, and the other grows instead.
        if (nw > maxSide) {
            nw = maxSide;
            nh = (min + nw - 1) / nw;
        } else if (nh > maxSide) {
            nh = maxSide;
            nw = (min + nh - 1) / nh;
        }
        return new long[] {nw, nh};
    }
}

package dev.kiln.emulator.render;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes a small caption (the prompt on one line, then seed and size) into the bottom-left of a
 * sandbox image, so a grid or a batch can be checked by eye. The font is a built-in 3×5 pixel
 * font (upper case, digits and common punctuation; other characters become '?'), scaled to the
 * image, so no system font is needed on a headless machine. Text sits on a dark band for contrast.
 */
final class Caption {
    /** Rows of 3 pixels, top to bottom; '#' is ink. */
    private static final String[] GLYPHS = {
        "A", "###,#.#,###,#.#,#.#", "B", "##.,#.#,##.,#.#,##.", "C", "###,#..,#..,#..,###", "D", "##.,#.#,#.#,#.#,##.",
        "E", "###,#..,##.,#..,###", "F", "###,#..,##.,#..,#..", "G", "###,#..,#.#,#.#,###", "H", "#.#,#.#,###,#.#,#.#",
        "I", "###,.#.,.#.,.#.,###", "J", "..#,..#,..#,#.#,###", "K", "#.#,#.#,##.,#.#,#.#", "L", "#..,#..,#..,#..,###",
        "M", "#.#,###,###,#.#,#.#", "N", "##.,#.#,#.#,#.#,#.#", "O", "###,#.#,#.#,#.#,###", "P", "###,#.#,###,#..,#..",
        "Q", "###,#.#,#.#,###,..#", "R", "##.,#.#,##.,#.#,#.#", "S", "###,#..,###,..#,###", "T", "###,.#.,.#.,.#.,.#.",
        "U", "#.#,#.#,#.#,#.#,###", "V", "#.#,#.#,#.#,#.#,.#.", "W", "#.#,#.#,###,###,#.#", "X", "#.#,#.#,.#.,#.#,#.#",
        "Y", "#.#,#.#,.#.,.#.,.#.", "Z", "###,..#,.#.,#..,###",
        "0", "###,#.#,#.#,#.#,###", "1", ".#.,##.,.#.,.#.,###", "2", "###,..#,###,#..,###", "3", "###,..#,###,..#,###",
        "4", "#.#,#.#,###,..#,..#", "5", "###,#..,###,..#,###", "6", "###,#..,###,#.#,###", "7", "###,..#,..#,..#,..#",
        "8", "###,#.#,###,#.#,###", "9", "###,#.#,###,..#,###",
        " ", "...,...,...,...,...", ".", "...,...,...,...,.#.", ",", "...,...,...,.#.,#..", ":", "...,.#.,...,.#.,...",
        "-", "...,...,###,...,...", "=", "...,###,...,###,...", "+", "...,.#.,###,.#.,...", "*", "#.#,.#.,#.#,...,...",
        "/", "..#,..#,.#.,#..,#..", "(", ".#.,#..,#..,#..,.#.", ")", ".#.,..#,..#,..#,.#.", "'", ".#.,.#.,...,...,...",
        "\"", "#.#,#.#,...,...,...", "!", ".#.,.#.,.#.,...,.#.", "?", "###,..#,.#.,...,.#.", "_", "...,...,...,...,###",
        "%", "#.#,..#,.#.,#..,#.#", "#", "#.#,###,#.#,###,#.#", "&", ".#.,#.#,.#.,#.#,.##",
    };
    private static final java.util.Map<Character, int[]> FONT = new java.util.HashMap<>();

    static {
        for (int i = 0; i < GLYPHS.length; i += 2) {
            String[] rows = GLYPHS[i + 1].split(",");
            int[] bits = new int[5];
            for (int r = 0; r < 5; r++) for (int c = 0; c < 3; c++) if (rows[r].charAt(c) == '#') bits[r] |= 1 << (2 - c);
            FONT.put(GLYPHS[i].charAt(0), bits);
        }
    }

    private Caption() {}

    /** Draws the lines into {@code pixels} (ARGB, row-major) when the image is large enough to hold them. */
    static void draw(int[] pixels, int width, int height, List<String> lines) {
        int scale = Math.max(1, Math.min(6, Math.min(width, height) / 128));
        int lineH = 7 * scale;
        int charW = 4 * scale;
        int maxChars = (width - 4 * scale) / charW;
        List<String> shown = new ArrayList<>();
        for (String l : lines) {
            String t = l.toUpperCase(Locale.ROOT).replaceAll("\\s+", " ").trim();
            if (t.length() > maxChars) t = maxChars > 3 ? t.substring(0, maxChars - 3) + "..." : "";
            if (!t.isEmpty()) shown.add(t);
        }
        if (shown.isEmpty() || maxChars < 6 || height < (shown.size() * lineH + 4 * scale) * 3) return;
        int bandH = shown.size() * lineH + 2 * scale;
        int top = height - bandH;
        for (int y = top; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int p = pixels[y * width + x];
                // Darken to a quarter: the pattern shows through, the text stays readable.
                pixels[y * width + x] = 0xff000000 | (((p >> 16) & 0xff) / 4) << 16 | (((p >> 8) & 0xff) / 4) << 8 | ((p & 0xff) / 4);
            }
        }
        for (int li = 0; li < shown.size(); li++) {
            String t = shown.get(li);
            int y0 = top + scale + li * lineH;
            for (int ci = 0; ci < t.length(); ci++) {
                int[] g = FONT.getOrDefault(t.charAt(ci), FONT.get('?'));
                int x0 = 2 * scale + ci * charW;
                for (int r = 0; r < 5; r++) {
                    for (int c = 0; c < 3; c++) {
                        if ((g[r] >> (2 - c) & 1) == 0) continue;
                        for (int dy = 0; dy < scale; dy++) {
                            for (int dx = 0; dx < scale; dx++) pixels[(y0 + r * scale + dy) * width + x0 + c * scale + dx] = 0xffffffff;
                        }
                    }
                }
            }
        }
    }
}

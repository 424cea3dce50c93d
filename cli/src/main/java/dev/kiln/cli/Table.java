package dev.kiln.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * A plain text table: columns padded to their widest cell, one flexible column (prompts, errors)
 * shortened so that a row fits the terminal ({@code COLUMNS}, else 120 characters).
 */
final class Table {
    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();
    private final int flexible;

    /** @param flexible index of the column that is shortened to fit, or -1 */
    Table(int flexible, String... headers) {
        this.headers = List.of(headers);
        this.flexible = flexible;
    }

    Table row(Object... cells) {
        List<String> r = new ArrayList<>();
        for (Object c : cells) r.add(c == null ? "" : String.valueOf(c).replaceAll("\\s+", " ").strip());
        rows.add(r);
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    String render() {
        return render(width());
    }

    String render(int lineWidth) {
        int n = headers.size();
        int[] w = new int[n];
        for (int i = 0; i < n; i++) w[i] = headers.get(i).length();
        for (List<String> r : rows) for (int i = 0; i < n && i < r.size(); i++) w[i] = Math.max(w[i], r.get(i).length());
        if (flexible >= 0) {
            int others = 0;
            for (int i = 0; i < n; i++) if (i != flexible) others += w[i] + 2;
            w[flexible] = Math.max(Math.max(12, headers.get(flexible).length()), Math.min(w[flexible], lineWidth - others));
        }
        StringBuilder b = new StringBuilder();
        line(b, headers, w);
        for (List<String> r : rows) line(b, r, w);
        return b.toString();
    }

    private static void line(StringBuilder b, List<String> cells, int[] w) {
        StringBuilder l = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            String c = shorten(i < cells.size() ? cells.get(i) : "", w[i]);
            l.append(c);
            if (i < w.length - 1) l.append(" ".repeat(w[i] - c.length() + 2));
        }
        b.append(l.toString().stripTrailing()).append('\n');
    }

    static String shorten(String s, int max) {
        if (s == null) return "";
        String t = s.replaceAll("\\s+", " ").strip();
        return t.length() <= max ? t : t.substring(0, Math.max(0, max - 1)) + "…";
    }

    static int width() {
        try {
            int c = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", ""));
            if (c >= 40) return c;
        } catch (NumberFormatException ignored) {
            // not set
        }
        return 120;
    }
}

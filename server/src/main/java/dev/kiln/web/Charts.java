package dev.kiln.web;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.web.util.HtmlUtils;

/**
 * The admin page's small charts over the last hour, drawn here as inline SVG from what Kiln
 * already keeps: finished jobs per minute by status ({@code job_history}), provider latency (the
 * jobs' start and finish times) and queue depth (jobs created and not yet started at each minute).
 */
@Component
class Charts {
    static final int MINUTES = 60;
    private static final int W = 360;
    private static final int H = 130;
    private static final int PAD = 28;
    private static final List<String> COLORS = List.of("#2e7d32", "#c62828", "#757575", "#ef6c00", "#1565c0", "#6a1b9a");
    private final JdbcClient jdbc;
    private final Clock clock;

    Charts(JdbcClient jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /** An SVG chart with its title, for the page to put inline. */
    record Chart(String title, String svg, String summary) {}

    Chart jobsPerMinute() {
        Instant now = clock.instant();
        Instant start = now.minus(Duration.ofMinutes(MINUTES));
        Map<String, double[]> series = new LinkedHashMap<>();
        for (String s : List.of("succeeded", "failed", "canceled", "timed_out")) series.put(s, new double[MINUTES]);
        jdbc.sql("SELECT to_status, at FROM job_history WHERE at >= ? AND to_status IN ('succeeded', 'failed', 'canceled', 'timed_out')")
                .param(Timestamp.from(start))
                .query((rs, n) -> {
                    int m = minute(start, rs.getTimestamp(2).toInstant());
                    if (m >= 0) series.get(rs.getString(1))[m]++;
                    return null;
                }).list();
        long total = series.values().stream().mapToLong(a -> (long) java.util.Arrays.stream(a).sum()).sum();
        return new Chart("Finished jobs per minute", lines(series, "jobs"), total + " jobs finished in the last hour");
    }

    Chart providerLatency() {
        Instant now = clock.instant();
        Instant start = now.minus(Duration.ofMinutes(MINUTES));
        Map<String, double[]> sum = new LinkedHashMap<>();
        Map<String, double[]> count = new LinkedHashMap<>();
        jdbc.sql("SELECT provider, started_at, finished_at FROM jobs WHERE finished_at >= ? AND status = 'succeeded' "
                        + "AND started_at IS NOT NULL AND provider IS NOT NULL")
                .param(Timestamp.from(start))
                .query((rs, n) -> {
                    Instant f = rs.getTimestamp(3).toInstant();
                    int m = minute(start, f) / 5;
                    if (m < 0) return null;
                    String p = rs.getString(1);
                    sum.computeIfAbsent(p, k -> new double[MINUTES / 5])[m] += Duration.between(rs.getTimestamp(2).toInstant(), f).toMillis() / 1000.0;
                    count.computeIfAbsent(p, k -> new double[MINUTES / 5])[m]++;
                    return null;
                }).list();
        Map<String, double[]> avg = new LinkedHashMap<>();
        sum.forEach((p, s) -> {
            double[] c = count.get(p);
            double[] a = new double[s.length];
            for (int i = 0; i < s.length; i++) a[i] = c[i] == 0 ? 0 : s[i] / c[i];
            avg.put(p, a);
        });
        return new Chart("Provider latency (seconds, 5-minute averages)", lines(avg, "s"),
                avg.isEmpty() ? "no finished jobs in the last hour" : "average seconds from start to finish per provider");
    }

    Chart queueDepth() {
        Instant now = clock.instant();
        Instant start = now.minus(Duration.ofMinutes(MINUTES));
        double[] depth = new double[MINUTES];
        jdbc.sql("SELECT created_at, started_at, finished_at FROM jobs WHERE (started_at IS NULL OR started_at >= ?) "
                        + "AND (finished_at IS NULL OR finished_at >= ?) AND created_at <= ?")
                .param(Timestamp.from(start)).param(Timestamp.from(start)).param(Timestamp.from(now))
                .query((rs, n) -> {
                    Instant created = rs.getTimestamp(1).toInstant();
                    Timestamp s = rs.getTimestamp(2);
                    Timestamp f = rs.getTimestamp(3);
                    Instant left = s != null ? s.toInstant() : f != null ? f.toInstant() : null;
                    for (int m = 0; m < MINUTES; m++) {
                        Instant t = start.plus(Duration.ofMinutes(m + 1));
                        if (!created.isAfter(t) && (left == null || left.isAfter(t))) depth[m]++;
                    }
                    return null;
                }).list();
        Map<String, double[]> series = new LinkedHashMap<>();
        series.put("queued", depth);
        return new Chart("Queue depth", lines(series, "jobs"), "jobs waiting for a provider, minute by minute; now " + (long) depth[MINUTES - 1]);
    }

    private static int minute(Instant start, Instant at) {
        long m = Duration.between(start, at).toMinutes();
        return m < 0 || m >= MINUTES ? -1 : (int) m;
    }

    /** A line chart of equally spaced points, one line per series, with a legend. */
    static String lines(Map<String, double[]> series, String unit) {
        double max = 1;
        for (double[] s : series.values()) for (double v : s) max = Math.max(max, v);
        max = niceCeiling(max);
        StringBuilder svg = new StringBuilder();
        svg.append("<svg viewBox=\"0 0 ").append(W).append(' ').append(H + 20).append("\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">");
        int left = PAD + 8;
        int plotW = W - left - 8;
        int plotH = H - PAD;
        svg.append("<line class=\"axis\" x1=\"").append(left).append("\" y1=\"").append(plotH + 6).append("\" x2=\"").append(W - 8)
                .append("\" y2=\"").append(plotH + 6).append("\"/>");
        svg.append("<line class=\"axis\" x1=\"").append(left).append("\" y1=\"6\" x2=\"").append(left).append("\" y2=\"").append(plotH + 6).append("\"/>");
        svg.append("<text x=\"2\" y=\"14\">").append(fmt(max)).append("</text>");
        svg.append("<text x=\"2\" y=\"").append(plotH + 6).append("\">0</text>");
        svg.append("<text x=\"").append(left).append("\" y=\"").append(plotH + 20).append("\">−60 min</text>");
        svg.append("<text x=\"").append(W - 40).append("\" y=\"").append(plotH + 20).append("\">now</text>");
        int i = 0;
        int legendX = left + 50;
        for (var e : series.entrySet()) {
            String color = COLORS.get(i % COLORS.size());
            double[] v = e.getValue();
            StringBuilder pts = new StringBuilder();
            for (int k = 0; k < v.length; k++) {
                double x = left + (v.length == 1 ? plotW : (double) plotW * k / (v.length - 1));
                double y = 6 + plotH - plotH * v[k] / max;
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            }
            svg.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").append(color).append("\" points=\"").append(pts.toString().trim())
                    .append("\"><title>").append(HtmlUtils.htmlEscape(e.getKey())).append("</title></polyline>");
            svg.append("<rect x=\"").append(legendX).append("\" y=\"").append(plotH + 12).append("\" width=\"10\" height=\"10\" fill=\"")
                    .append(color).append("\"/><text x=\"").append(legendX + 14).append("\" y=\"").append(plotH + 20).append("\">")
                    .append(HtmlUtils.htmlEscape(e.getKey())).append("</text>");
            legendX += 20 + 6 * e.getKey().length();
            i++;
        }
        svg.append("<text x=\"").append(W - 8 - 7 * unit.length()).append("\" y=\"14\">").append(HtmlUtils.htmlEscape(unit)).append("</text>");
        svg.append("</svg>");
        return svg.toString();
    }

    private static double niceCeiling(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) if (m * p >= v) return m * p;
        return 10 * p;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.1f", v);
    }
}

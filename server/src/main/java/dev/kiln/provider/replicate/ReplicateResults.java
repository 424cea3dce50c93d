package dev.kiln.provider.replicate;

import dev.kiln.provider.OutputRef;
import dev.kiln.provider.RemoteStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/** Reads Replicate prediction objects into Kiln's {@link RemoteStatus}. */
final class ReplicateResults {
    /** tqdm-style progress lines that Cog models print: {@code " 45%|████      | 9/20"}. */
    private static final Pattern PERCENT = Pattern.compile("(\\d{1,3})%\\|");
    private static final Pattern STEPS = Pattern.compile("(\\d+)/(\\d+)");
    /** Replicate's own infrastructure faults ("please retry", code PA, ...) are worth a new attempt; model errors are not. */
    private static final Pattern RETRYABLE = Pattern.compile(
            "(?i)retry|interrupted|internal (server )?error|out of memory|timed? ?out|temporar|unavailable|\\(code: ?PA\\)");
    /** Stands for "any input image" when matching listed predictions; cannot occur in a real request (NUL byte). */
    static final JsonNode ANY_IMAGE = JsonNodeFactory.instance.stringNode("\u0000kiln:any-image");

    private ReplicateResults() {}

    static RemoteStatus status(JsonNode p) {
        String status = p.path("status").asString("").toLowerCase(Locale.ROOT);
        String error = errorText(p.path("error"));
        return switch (status) {
            case "succeeded" -> succeeded(p);
            case "failed" -> new RemoteStatus.Failed("replicate_failed", error.isEmpty() ? "prediction failed at Replicate" : error,
                    RETRYABLE.matcher(error).find());
            case "canceled", "cancelled" -> new RemoteStatus.Canceled(error.isEmpty() ? "canceled at Replicate" : error);
            // Terminated before it ever ran (e.g. Cancel-After hit while queued): nothing was generated, try again.
            case "aborted" -> new RemoteStatus.Failed("replicate_aborted", error.isEmpty() ? "prediction aborted before it started" : error, true);
            case "starting" -> new RemoteStatus.Pending(0, null);
            default -> new RemoteStatus.Pending(progress(p.path("logs").asString("")), null);
        };
    }

    static boolean isFinal(RemoteStatus s) {
        return !(s instanceof RemoteStatus.Pending);
    }

    private static RemoteStatus succeeded(JsonNode p) {
        if (p.path("data_removed").asBoolean(false)) {
            return new RemoteStatus.Failed("replicate_data_removed",
                    "Replicate removed the outputs (API predictions keep them for one hour only)", false);
        }
        List<OutputRef> refs = new ArrayList<>();
        collect(p.path("output"), p.path("id").asString("output"), refs);
        if (refs.isEmpty()) return new RemoteStatus.Failed("replicate_no_outputs", "prediction succeeded without file outputs", false);
        return new RemoteStatus.Succeeded(refs, predictTime(p.path("metrics")));
    }

    /**
     * {@code metrics.predict_time}: the seconds the model itself ran (Replicate's prediction
     * object, https://replicate.com/docs/reference/http#predictions.get), or null when absent.
     */
    static java.time.Duration predictTime(JsonNode metrics) {
        JsonNode t = metrics == null ? null : metrics.get("predict_time");
        if (t == null || !t.isNumber() || !(t.asDouble() >= 0) || t.asDouble() > 86_400 * 30) return null;
        return java.time.Duration.ofNanos(Math.round(t.asDouble() * 1e9));
    }

    /** Every URL or data URI in the output: a string, an array of them, or an object holding them. */
    private static void collect(JsonNode out, String id, List<OutputRef> refs) {
        if (out == null || out.isNull() || out.isMissingNode()) return;
        if (out.isArray()) {
            for (JsonNode o : out) collect(o, id, refs);
        } else if (out.isObject()) {
            for (Map.Entry<String, JsonNode> e : out.properties()) collect(e.getValue(), id, refs);
        } else if (out.isString()) {
            String v = out.asString().strip();
            if (v.startsWith("https://") || v.startsWith("http://")) {
                refs.add(OutputRef.url(v));
            } else if (v.startsWith("data:")) {
                int end = v.indexOf(';'), comma = v.indexOf(',');
                if (end < 0 || (comma >= 0 && comma < end)) end = comma;
                String mime = end > 5 ? v.substring(5, end) : "application/octet-stream";
                refs.add(OutputRef.inline(v, mime, id + "_" + refs.size() + extension(mime)));
            }
        }
    }

    /** The last progress a model logged (tqdm percent, else "n/m" steps), 0..1. */
    static double progress(String logs) {
        if (logs == null || logs.isEmpty()) return 0;
        int from = Math.max(0, logs.length() - 2000);
        String tail = logs.substring(from);
        double best = -1;
        Matcher m = PERCENT.matcher(tail);
        while (m.find()) best = Integer.parseInt(m.group(1)) / 100.0;
        if (best < 0) {
            Matcher s = STEPS.matcher(tail);
            while (s.find()) {
                long done = Long.parseLong(s.group(1)), total = Long.parseLong(s.group(2));
                if (total > 0 && done <= total) best = (double) done / total;
            }
        }
        return best < 0 ? 0 : Math.min(0.99, best);
    }

    private static String errorText(JsonNode e) {
        if (e == null || e.isNull() || e.isMissingNode()) return "";
        return e.isString() ? e.asString() : e.toString();
    }

    private static String extension(String mime) {
        return switch (mime) {
            case "image/png" -> ".png";
            case "image/jpeg" -> ".jpg";
            case "image/webp" -> ".webp";
            case "video/mp4" -> ".mp4";
            default -> ".bin";
        };
    }

    /** How a listed prediction's input compares with the submitted one. */
    enum Comparison { SAME, DIFFERENT, CANNOT_TELL }

    /**
     * Whether {@code actual} (a listed prediction's input) holds every field of {@code wanted} with
     * an equal value; numbers compare by value, {@link #ANY_IMAGE} matches any string. An image
     * missing from {@code actual} (a field, or elements of a list of images) is one Replicate did
     * not keep (a data URI): with everything else equal, the answer is {@code CANNOT_TELL}.
     */
    static Comparison compare(JsonNode wanted, JsonNode actual) {
        if (ANY_IMAGE.equals(wanted)) {
            if (actual == null || actual.isMissingNode()) return Comparison.CANNOT_TELL;
            return actual.isString() ? Comparison.SAME : Comparison.DIFFERENT;
        }
        if (actual == null || actual.isMissingNode()) {
            return wanted.isArray() && holdsImages(wanted) ? Comparison.CANNOT_TELL : Comparison.DIFFERENT;
        }
        if (wanted.isObject()) {
            if (!actual.isObject()) return Comparison.DIFFERENT;
            Comparison result = Comparison.SAME;
            for (Map.Entry<String, JsonNode> e : wanted.properties()) {
                Comparison c = compare(e.getValue(), actual.get(e.getKey()));
                if (c == Comparison.DIFFERENT) return c;
                if (c == Comparison.CANNOT_TELL) result = c;
            }
            return result;
        }
        if (wanted.isArray()) {
            if (!actual.isArray()) return Comparison.DIFFERENT;
            if (actual.size() != wanted.size()) {
                // Images dropped from the list cannot be lined up with what was sent.
                return holdsImages(wanted) && actual.size() < wanted.size() ? Comparison.CANNOT_TELL : Comparison.DIFFERENT;
            }
            Comparison result = Comparison.SAME;
            for (int i = 0; i < wanted.size(); i++) {
                Comparison c = compare(wanted.get(i), actual.get(i));
                if (c == Comparison.DIFFERENT) return c;
                if (c == Comparison.CANNOT_TELL) result = c;
            }
            return result;
        }
        if (wanted.isNumber() && actual.isNumber()) {
            return wanted.decimalValue().compareTo(actual.decimalValue()) == 0 ? Comparison.SAME : Comparison.DIFFERENT;
        }
        return wanted.equals(actual) ? Comparison.SAME : Comparison.DIFFERENT;
    }

    private static boolean holdsImages(JsonNode array) {
        for (JsonNode n : array) if (ANY_IMAGE.equals(n)) return true;
        return false;
    }
}

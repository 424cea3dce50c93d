package dev.kiln.provider.wavespeed;

import dev.kiln.provider.OutputRef;
import dev.kiln.provider.RemoteStatus;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/** Reads WaveSpeed prediction objects into Kiln's {@link RemoteStatus}. */
final class WaveSpeedResults {
    private WaveSpeedResults() {}

    /**
     * The state of a prediction. Statuses other than the documented final ones (including the
     * {@code pending} one SDK tests use) count as still running.
     *
     * @param format the requested {@code output_format}, for naked base64 outputs; may be null
     */
    static RemoteStatus status(JsonNode data, String format) {
        String status = data.path("status").asString("").toLowerCase(Locale.ROOT);
        String error = data.path("error").asString("");
        return switch (status) {
            case "completed", "succeeded" -> completed(data, format);
            case "failed" -> failed(error);
            case "cancelled", "canceled", "deleted" -> new RemoteStatus.Canceled(error.isEmpty() ? "cancelled at WaveSpeed" : error);
            case "timeout" -> new RemoteStatus.Failed("wavespeed_timeout", error.isEmpty() ? "task timed out at WaveSpeed" : error, true);
            default -> RemoteStatus.Pending.UNKNOWN;
        };
    }

    /** Whether a status is final (a submit answer with one needs no polling). */
    static boolean isFinal(RemoteStatus s) {
        return !(s instanceof RemoteStatus.Pending);
    }

    /**
     * WaveSpeed's own trouble, worth a new attempt: its error texts for internal errors, unavailable
     * services and timeouts. Anything else (moderation, a refused input, a failed execution) would
     * fail again.
     */
    private static final Pattern RETRYABLE = Pattern.compile(
            "(?i)internal|unavailable|timed? ?out|temporar|overload|busy|try again|retry");

    /**
     * A failed task. Only the {@code error} text is documented on it (wavespeed.ai/docs/shared/api-result);
     * a numeric {@code code} some answers carry is undocumented, so nothing depends on it.
     */
    private static RemoteStatus failed(String error) {
        String message = error.isEmpty() ? "task failed at WaveSpeed" : error;
        return new RemoteStatus.Failed("wavespeed_failed", message, RETRYABLE.matcher(error).find());
    }

    private static RemoteStatus completed(JsonNode data, String format) {
        String id = data.path("id").asString("output");
        List<OutputRef> refs = new ArrayList<>();
        int i = 0;
        for (JsonNode o : data.path("outputs")) {
            String v = o.isString() ? o.asString().strip() : "";
            if (v.isEmpty()) continue;
            if (v.startsWith("https://") || v.startsWith("http://")) {
                refs.add(OutputRef.url(v));
            } else if (v.startsWith("data:")) {
                int end = v.indexOf(';'), comma = v.indexOf(',');
                if (end < 0 || (comma >= 0 && comma < end)) end = comma;
                String mime = end > 5 ? v.substring(5, end) : "";
                refs.add(OutputRef.inline(v, mime.isEmpty() ? "application/octet-stream" : mime, id + "_" + i + ext(mime)));
            } else {
                // Naked base64 (enable_base64_output): the bytes tell the type better than the request did.
                String mime = sniff(v);
                if (mime == null) mime = format == null ? "application/octet-stream" : mimeOf(format);
                refs.add(OutputRef.inline(v, mime, id + "_" + i + ext(mime)));
            }
            i++;
        }
        if (refs.isEmpty()) return new RemoteStatus.Failed("wavespeed_no_outputs", "task completed without outputs", true);
        return new RemoteStatus.Succeeded(refs);
    }

    /** The image type of base64 data from its first bytes, or null. */
    static String sniff(String base64) {
        byte[] b;
        try {
            b = Base64.getDecoder().decode(base64.substring(0, Math.min(base64.length(), 24)));
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (b.length >= 4 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return "image/png";
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) return "image/jpeg";
        if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') return "image/webp";
        if (b.length >= 4 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F' && b[3] == '8') return "image/gif";
        if (b.length >= 8 && b[4] == 'f' && b[5] == 't' && b[6] == 'y' && b[7] == 'p') return "video/mp4";
        return null;
    }

    private static String mimeOf(String format) {
        return switch (format.toLowerCase(Locale.ROOT)) {
            case "jpg", "jpeg" -> "image/jpeg";
            case "webp" -> "image/webp";
            case "png" -> "image/png";
            case "mp4" -> "video/mp4";
            default -> "application/octet-stream";
        };
    }

    private static String ext(String mime) {
        return switch (mime) {
            case "image/png" -> ".png";
            case "image/jpeg" -> ".jpeg";
            case "image/webp" -> ".webp";
            case "image/gif" -> ".gif";
            case "video/mp4" -> ".mp4";
            default -> ".bin";
        };
    }
}

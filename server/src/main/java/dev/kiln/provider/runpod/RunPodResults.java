package dev.kiln.provider.runpod;

import dev.kiln.provider.ComfyWorkflows;
import dev.kiln.provider.OutputRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.support.Json;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import tools.jackson.databind.JsonNode;

/**
 * Reads a RunPod {@code /status} body into Kiln's {@link RemoteStatus}, for worker-comfyui's
 * output shapes: 5.x {@code output.images[{filename, type:"base64"|"s3_url", data}]}, older
 * {@code output.message} (base64 or a URL) and plain string or string-list outputs; a plain string
 * that is not a URL, a data: URI or base64 of an image or video is a message, and fails the job.
 */
final class RunPodResults {
    private RunPodResults() {}

    static RemoteStatus status(JsonNode body) {
        String status = body.path("status").asString("").toUpperCase(Locale.ROOT);
        return switch (status) {
            case "COMPLETED" -> completed(body.path("id").asString("output"), body.get("output"));
            case "FAILED" -> failed(body);
            case "CANCELLED", "CANCELED" -> new RemoteStatus.Canceled("cancelled at RunPod");
            case "TIMED_OUT" -> new RemoteStatus.Failed("runpod_timed_out",
                    "RunPod timed the job out (policy executionTimeout or ttl, or no worker reported in time)", true);
            default -> RemoteStatus.Pending.UNKNOWN; // IN_QUEUE, IN_PROGRESS, RUNNING and anything new
        };
    }

    private static RemoteStatus failed(JsonNode body) {
        String error = errorText(body.get("error"));
        List<String> details = texts(body.path("output").path("details"));
        String message = error + (details.isEmpty() ? "" : ": " + String.join("; ", details));
        if (message.isBlank()) message = "the job failed at RunPod without an error message";
        String lower = message.toLowerCase(Locale.ROOT);
        // Worker-side trouble (ComfyUI down, websocket or HTTP trouble, out of memory) may pass on
        // another worker; a workflow that fails validation or execution will fail again.
        boolean retryable = lower.contains("not reachable") || lower.contains("websocket communication error")
                || lower.contains("http communication error") || lower.contains("out of memory") || lower.contains("outofmemory");
        return new RemoteStatus.Failed("runpod_failed", message, retryable);
    }

    /** The job error: a plain string, or runpod-python's JSON string {@code {error_type, error_message, error_traceback}}. */
    static String errorText(JsonNode e) {
        if (e == null || e.isNull()) return "";
        String s = e.isString() ? e.asString() : e.toString();
        if (s.startsWith("{")) {
            try {
                JsonNode n = Json.MAPPER.readTree(s);
                String msg = n.path("error_message").asString(n.path("error").asString(""));
                if (!msg.isBlank()) {
                    String type = n.path("error_type").asString("");
                    return type.isBlank() ? msg : type.replaceAll("^<class '(.*)'>$", "$1") + ": " + msg;
                }
            } catch (RuntimeException ignored) {
                // not JSON after all
            }
        }
        return s;
    }

    private static RemoteStatus completed(String id, JsonNode output) {
        if (output == null || output.isNull() || output.isMissingNode()) {
            // A known RunPod failure mode: the worker's result upload failed, the job still says COMPLETED.
            return new RemoteStatus.Failed("runpod_no_output", "RunPod reported COMPLETED without any output", true);
        }
        List<String> warnings = texts(output.path("errors"));
        List<OutputRef> refs = new ArrayList<>();
        // A plain string is a file only when it is a URL, a data: URI or base64 of an image or
        // video; anything else is the worker's message (a custom handler returning its error as text).
        List<String> plain = new ArrayList<>();
        if (output.isString()) {
            plain.add(output.asString());
        } else if (output.isArray()) {
            for (JsonNode o : output) if (o.isString()) plain.add(o.asString());
        } else if (output.path("message").isString() && !output.has("images")) {
            plain.add(output.path("message").asString()); // worker-comfyui before 5.0
        }
        for (String p : plain) {
            if (!isFile(p)) return new RemoteStatus.Failed("runpod_failed", p.isBlank() ? "the worker returned an empty output" : p.strip(), false);
            add(refs, id, p, null);
        }
        if (!plain.isEmpty() || output.isString() || output.isArray()) {
            // handled above
        } else if (output.has("images")) {
            for (JsonNode img : output.path("images")) {
                if (img.isString()) {
                    if (!isFile(img.asString())) return new RemoteStatus.Failed("runpod_failed", img.asString().strip(), false);
                    add(refs, id, img.asString(), null);
                } else if (img.isObject()) {
                    String data = img.path("data").asString(img.path("image").asString(img.path("url").asString("")));
                    String type = img.path("type").asString("");
                    String filename = img.path("filename").asString(null);
                    if (type.equals("s3_url")) {
                        if (!data.isBlank()) refs.add(new OutputRef(data, null, ComfyWorkflows.mimeOf(filename), filename));
                    } else {
                        add(refs, id, data, filename);
                    }
                }
            }
        } else if (output.has("error")) {
            return new RemoteStatus.Failed("runpod_failed", errorText(output.get("error")), false);
        }
        if (refs.isEmpty()) {
            // Stock worker-comfyui collects only "images" outputs: a video node's "gifs" are dropped.
            String why = "success_no_images".equals(output.path("status").asString(""))
                    ? "the workflow ran but the worker returned no files (stock worker-comfyui returns only 'images' outputs;"
                            + " a video node's 'gifs' need a worker that returns them)"
                    : "RunPod's output holds no images";
            return new RemoteStatus.Failed("runpod_no_outputs", why + (warnings.isEmpty() ? "" : ": " + String.join("; ", warnings)), false);
        }
        return new RemoteStatus.Succeeded(refs);
    }

    private static void add(List<OutputRef> refs, String id, String value, String filename) {
        String v = value == null ? "" : value.strip();
        if (v.isEmpty()) return;
        if (v.startsWith("https://") || v.startsWith("http://")) {
            refs.add(new OutputRef(v, null, ComfyWorkflows.mimeOf(filename), filename));
            return;
        }
        String mime = v.startsWith("data:") ? dataMime(v) : sniff(v);
        if (mime == null) mime = ComfyWorkflows.mimeOf(filename);
        if (mime == null) mime = "application/octet-stream";
        refs.add(OutputRef.inline(v, mime, filename != null ? filename : id + "_" + refs.size()));
    }

    /** Whether a plain string output is a file: an http(s) URL, a data: URI, or base64 whose bytes are an image or video. */
    static boolean isFile(String value) {
        String v = value == null ? "" : value.strip();
        if (v.startsWith("https://") || v.startsWith("http://")) return !v.contains(" ");
        if (v.startsWith("data:")) return v.indexOf(',') > 5;
        return v.length() >= 16 && BASE64.matcher(v).matches() && sniff(v) != null;
    }

    private static final java.util.regex.Pattern BASE64 = java.util.regex.Pattern.compile("[A-Za-z0-9+/\\s]+={0,2}");

    private static String dataMime(String v) {
        int end = v.indexOf(';'), comma = v.indexOf(',');
        if (end < 0 || (comma >= 0 && comma < end)) end = comma;
        return end > 5 ? v.substring(5, end) : null;
    }

    /** The type of base64 data from its first bytes, or null. */
    static String sniff(String base64) {
        byte[] b;
        try {
            b = Base64.getDecoder().decode(base64.substring(0, Math.min(base64.length(), 24)).replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (b.length >= 4 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return "image/png";
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8) return "image/jpeg";
        if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[8] == 'W' && b[9] == 'E') return "image/webp";
        if (b.length >= 4 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F') return "image/gif";
        if (b.length >= 8 && b[4] == 'f' && b[5] == 't' && b[6] == 'y' && b[7] == 'p') return "video/mp4";
        if (b.length >= 4 && (b[0] & 0xff) == 0x1a && (b[1] & 0xff) == 0x45 && (b[2] & 0xff) == 0xdf && (b[3] & 0xff) == 0xa3) return "video/webm";
        return null;
    }

    private static List<String> texts(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n != null && n.isArray()) for (JsonNode x : n) out.add(x.isString() ? x.asString() : x.toString());
        return out;
    }
}

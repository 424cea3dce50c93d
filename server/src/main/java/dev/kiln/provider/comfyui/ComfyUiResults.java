package dev.kiln.provider.comfyui;

import dev.kiln.provider.ComfyWorkflows;
import dev.kiln.provider.OutputRef;
import dev.kiln.provider.RemoteStatus;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/** Reads a ComfyUI {@code /history/{id}} entry into Kiln's {@link RemoteStatus}. */
final class ComfyUiResults {
    private ComfyUiResults() {}

    static RemoteStatus status(String base, JsonNode entry) {
        JsonNode status = entry.path("status");
        String str = status.path("status_str").asString("");
        JsonNode messages = status.path("messages");
        for (JsonNode m : messages) {
            String type = m.path(0).asString("");
            JsonNode d = m.path(1);
            if (type.equals("execution_error")) {
                String exType = d.path("exception_type").asString("");
                String msg = "node " + d.path("node_id").asString("?") + " (" + d.path("node_type").asString("?") + ") failed: "
                        + (exType.isBlank() ? "" : exType + ": ") + d.path("exception_message").asString("").strip();
                // Out of memory may pass on another attempt (another GPU, less load); the rest is the workflow's fault.
                boolean retryable = exType.contains("OutOfMemory") || msg.contains("out of memory");
                return new RemoteStatus.Failed("comfyui_execution_error", msg, retryable);
            }
            if (type.equals("execution_interrupted")) {
                return new RemoteStatus.Canceled("interrupted at ComfyUI (node " + d.path("node_id").asString("?") + ")");
            }
        }
        if (str.equals("error")) return new RemoteStatus.Failed("comfyui_failed", "the prompt ended with an error at ComfyUI", true);
        if (!str.isEmpty() && !str.equals("success")) return RemoteStatus.Pending.UNKNOWN;
        List<OutputRef> refs = outputs(base, entry.path("outputs"));
        if (refs.isEmpty()) return new RemoteStatus.Failed("comfyui_no_outputs", "the workflow finished without saving any file", false);
        return new RemoteStatus.Succeeded(refs);
    }

    /**
     * Every saved file of every output node ({@code images}, {@code gifs}, {@code videos}...:
     * any list of {@code {filename, subfolder, type}}). Preview ({@code temp}) files count only
     * when nothing was saved for good.
     */
    static List<OutputRef> outputs(String base, JsonNode outputs) {
        List<OutputRef> saved = new ArrayList<>(), temp = new ArrayList<>();
        for (Map.Entry<String, JsonNode> node : outputs.properties()) {
            for (Map.Entry<String, JsonNode> key : node.getValue().properties()) {
                if (!key.getValue().isArray()) continue;
                for (JsonNode f : key.getValue()) {
                    String filename = f.path("filename").asString("");
                    if (filename.isBlank()) continue;
                    String type = f.path("type").asString("output");
                    String url = base + "/view?filename=" + enc(filename) + "&subfolder=" + enc(f.path("subfolder").asString(""))
                            + "&type=" + enc(type);
                    OutputRef ref = new OutputRef(url, null, ComfyWorkflows.mimeOf(filename), filename);
                    (type.equals("temp") ? temp : saved).add(ref);
                }
            }
        }
        return saved.isEmpty() ? temp : saved;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}

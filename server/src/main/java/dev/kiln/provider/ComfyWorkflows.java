package dev.kiln.provider;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Turns a job into a ComfyUI API-format workflow plus the image files it needs, shared by the
 * ComfyUI and RunPod worker-comfyui adapters. Images a template names ({@code ${images.reference_image[0]}})
 * become a content-derived file name that the template receives; images under any other input
 * name (a raw workflow's {@code "photo.png"}) are sent under exactly that name, which is what the
 * workflow's {@code LoadImage} nodes refer to.
 */
public final class ComfyWorkflows {
    private static final Pattern IMAGE_REF = Pattern.compile("images\\.([A-Za-z0-9_-]+)(?:\\[\\d+])?");
    private static final Pattern SAFE_NAME = Pattern.compile("[^/\\\\\\x00-\\x1f]{1,200}");

    /** A workflow ready to queue and the files to upload first, by the name the workflow uses. */
    public record Rendered(ObjectNode workflow, Map<String, InputImage> files) {}

    private ComfyWorkflows() {}

    public static Rendered render(String provider, SubmitRequest request) {
        Set<String> referenced = new HashSet<>();
        for (String p : request.placeholders()) {
            Matcher m = IMAGE_REF.matcher(p);
            if (m.matches()) referenced.add(m.group(1));
        }
        Map<String, InputImage> files = new LinkedHashMap<>();
        JsonNode rendered = request.renderInput(img -> {
            files.putIfAbsent(img.fileName(), img);
            return JsonNodeFactory.instance.stringNode(img.fileName());
        });
        for (Map.Entry<String, List<InputImage>> e : request.images().entrySet()) {
            if (referenced.contains(e.getKey())) continue;
            String name = e.getKey();
            if (!SAFE_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
                throw new ProviderException.Rejected(provider, "image input name '" + name + "' is not a usable file name", null, 0);
            }
            List<InputImage> list = e.getValue();
            for (int i = 0; i < list.size(); i++) {
                files.put(i == 0 ? name : numbered(name, i), list.get(i));
            }
        }
        if (!(rendered instanceof ObjectNode graph) || graph.isEmpty()) {
            throw new ProviderException.Rejected(provider, "the workflow must be a JSON object of nodes (ComfyUI API format)", null, 0);
        }
        if (graph.has("nodes") && graph.has("links")) {
            throw new ProviderException.Rejected(provider,
                    "the workflow is in ComfyUI's UI format; export it with 'Save (API)' (API format: {node id: {class_type, inputs}})", null, 0);
        }
        return new Rendered(graph, files);
    }

    /** {@code photo.png} → {@code photo_1.png}: a second image under one name. */
    static String numbered(String name, int i) {
        int dot = name.lastIndexOf('.');
        return dot <= 0 ? name + "_" + i : name.substring(0, dot) + "_" + i + name.substring(dot);
    }

    /** A MIME type from a file name's extension, or null. */
    public static String mimeOf(String filename) {
        String f = filename == null ? "" : filename.toLowerCase(java.util.Locale.ROOT);
        if (f.endsWith(".png")) return "image/png";
        if (f.endsWith(".jpg") || f.endsWith(".jpeg")) return "image/jpeg";
        if (f.endsWith(".webp")) return "image/webp";
        if (f.endsWith(".gif")) return "image/gif";
        if (f.endsWith(".mp4") || f.endsWith(".m4v")) return "video/mp4";
        if (f.endsWith(".webm")) return "video/webm";
        if (f.endsWith(".mov")) return "video/quicktime";
        return null;
    }
}

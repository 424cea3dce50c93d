package dev.kiln.provider;

import dev.kiln.support.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a ComfyUI can run, and what a workflow needs of it; shared by the ComfyUI and RunPod
 * (worker-comfyui) adapters (docs/PROVIDERS.md, "Routing by what a server has").
 *
 * <p>ComfyUI tells what it has in {@code GET /object_info} (server.py {@code node_info}): one entry
 * per node class, each input a type or a combo list, {@code [[choices], {...}]} (or
 * {@code ["COMBO", {"options": [...]}]} for V3 nodes). The core loaders' combos list their model
 * folders ({@code folder_paths.get_filename_list}: {@code CheckpointLoaderSimple.ckpt_name} the
 * checkpoints, {@code UNETLoader.unet_name} the diffusion models, …), and ComfyUI refuses a prompt
 * whose class is not installed ({@code missing_node_type}) or whose value is not in its list
 * ({@code value_not_in_list}, execution.py {@code validate_inputs}). The summary kept with an
 * account is small and quick to consult:
 *
 * <pre>{"source": "object_info",
 *  "nodes": {"KSampler": {}, "CheckpointLoaderNF4": {"ckpt_name": "checkpoints"}, …},
 *  "folders": {"checkpoints": ["a.safetensors", …], "loras": [], …}}</pre>
 *
 * {@code nodes} maps each installed class to its inputs that name a model file and the folder they
 * list: the core loaders' from the table below, a custom node's when its list is exactly one of the
 * folders'. A part that is absent is unknown, and not checked.
 */
public final class ComfyCapabilities {
    private ComfyCapabilities() {}

    /** The inputs of ComfyUI's own loaders (nodes.py, comfy_extras) that name a file, and its folder. */
    static final Map<String, Map<String, String>> CORE_FILE_INPUTS = Map.ofEntries(
            Map.entry("CheckpointLoaderSimple", Map.of("ckpt_name", "checkpoints")),
            Map.entry("CheckpointLoader", Map.of("ckpt_name", "checkpoints")),
            Map.entry("ImageOnlyCheckpointLoader", Map.of("ckpt_name", "checkpoints")),
            Map.entry("unCLIPCheckpointLoader", Map.of("ckpt_name", "checkpoints")),
            Map.entry("UNETLoader", Map.of("unet_name", "diffusion_models")),
            Map.entry("CLIPLoader", Map.of("clip_name", "text_encoders")),
            Map.entry("DualCLIPLoader", Map.of("clip_name1", "text_encoders", "clip_name2", "text_encoders")),
            Map.entry("TripleCLIPLoader", Map.of("clip_name1", "text_encoders", "clip_name2", "text_encoders", "clip_name3", "text_encoders")),
            Map.entry("VAELoader", Map.of("vae_name", "vae")),
            Map.entry("LoraLoader", Map.of("lora_name", "loras")),
            Map.entry("LoraLoaderModelOnly", Map.of("lora_name", "loras")),
            Map.entry("CLIPVisionLoader", Map.of("clip_name", "clip_vision")),
            Map.entry("UpscaleModelLoader", Map.of("model_name", "upscale_models")),
            Map.entry("ControlNetLoader", Map.of("control_net_name", "controlnet")),
            Map.entry("DiffControlNetLoader", Map.of("control_net_name", "controlnet")),
            Map.entry("StyleModelLoader", Map.of("style_model_name", "style_models")),
            Map.entry("GLIGENLoader", Map.of("gligen_name", "gligen")));

    /** Where each folder's list is read from in {@code /object_info}: a core loader that lists only it. */
    private static final Map<String, String[]> FOLDER_SOURCES = new LinkedHashMap<>();

    static {
        FOLDER_SOURCES.put("checkpoints", new String[] {"CheckpointLoaderSimple", "ckpt_name"});
        FOLDER_SOURCES.put("diffusion_models", new String[] {"UNETLoader", "unet_name"});
        FOLDER_SOURCES.put("text_encoders", new String[] {"CLIPLoader", "clip_name"});
        FOLDER_SOURCES.put("vae", new String[] {"VAELoader", "vae_name"});
        FOLDER_SOURCES.put("loras", new String[] {"LoraLoaderModelOnly", "lora_name"});
        FOLDER_SOURCES.put("clip_vision", new String[] {"CLIPVisionLoader", "clip_name"});
        FOLDER_SOURCES.put("upscale_models", new String[] {"UpscaleModelLoader", "model_name"});
        FOLDER_SOURCES.put("controlnet", new String[] {"ControlNetLoader", "control_net_name"});
        FOLDER_SOURCES.put("style_models", new String[] {"StyleModelLoader", "style_model_name"});
        FOLDER_SOURCES.put("gligen", new String[] {"GLIGENLoader", "gligen_name"});
    }

    /** VAELoader's names that are no file (nodes.py {@code vae_list}): allowed whatever a settings list says. */
    private static final List<String> BUILT_IN_VAES = List.of("pixel_space", "taesd", "taesdxl", "taesd3", "taef1");

    /** The summary of an {@code /object_info} answer. */
    public static ObjectNode fromObjectInfo(JsonNode objectInfo) {
        ObjectNode caps = Json.object();
        caps.put("source", "object_info");
        ObjectNode folders = Json.object();
        FOLDER_SOURCES.forEach((folder, src) -> {
            List<String> files = combo(objectInfo.path(src[0]), src[1]);
            if (files == null && folder.equals("loras")) files = combo(objectInfo.path("LoraLoader"), "lora_name");
            if (files != null) folders.set(folder, array(files));
        });
        ObjectNode nodes = Json.object();
        for (Map.Entry<String, JsonNode> e : objectInfo.properties()) {
            ObjectNode fileInputs = nodes.putObject(e.getKey());
            Map<String, String> core = CORE_FILE_INPUTS.getOrDefault(e.getKey(), Map.of());
            for (String group : new String[] {"required", "optional"}) {
                for (Map.Entry<String, JsonNode> in : e.getValue().path("input").path(group).properties()) {
                    String folder = core.get(in.getKey());
                    if (folder == null) {
                        List<String> options = combo(e.getValue(), in.getKey());
                        if (options != null && !options.isEmpty()) folder = folderListing(folders, options);
                    }
                    if (folder != null) fileInputs.put(in.getKey(), folder);
                }
            }
        }
        caps.set("nodes", nodes);
        caps.set("folders", folders);
        return caps;
    }

    /**
     * The capabilities an account's settings declare, for a worker that cannot be asked (RunPod
     * worker-comfyui): {@code models} lists files as {@code folder/file}, {@code nodes} every node
     * class; either may be blank (then unknown). Null when both are.
     */
    public static ObjectNode fromSettings(String models, String nodes) {
        List<String> m = split(models), n = split(nodes);
        if (m.isEmpty() && n.isEmpty()) return null;
        ObjectNode caps = Json.object();
        caps.put("source", "settings");
        if (!n.isEmpty()) {
            ObjectNode o = caps.putObject("nodes");
            for (String c : n) o.putObject(c);
        }
        if (!m.isEmpty()) {
            Map<String, List<String>> byFolder = new LinkedHashMap<>();
            for (String entry : m) {
                int slash = entry.indexOf('/');
                if (slash <= 0 || slash == entry.length() - 1) continue; // not folder/file: says nothing
                byFolder.computeIfAbsent(entry.substring(0, slash), k -> new ArrayList<>()).add(entry.substring(slash + 1));
            }
            ObjectNode f = caps.putObject("folders");
            byFolder.forEach((folder, files) -> f.set(folder, array(files)));
        }
        return caps;
    }

    /**
     * What a server with these capabilities lacks to run this API-format workflow: node classes not
     * installed, and model files missing from their folders. Empty when it has everything, when the
     * capabilities are unknown (null), or when the input is not a workflow.
     */
    public static List<Shortfall> check(JsonNode caps, JsonNode workflow) {
        List<Shortfall> out = new ArrayList<>();
        if (caps == null || !caps.isObject() || workflow == null || !workflow.isObject()) return out;
        JsonNode nodes = caps.get("nodes");
        JsonNode folders = caps.path("folders");
        boolean declared = "settings".equals(caps.path("source").asString(""));
        for (Map.Entry<String, JsonNode> e : workflow.properties()) {
            JsonNode classType = e.getValue().path("class_type");
            if (!classType.isString()) continue; // ComfyUI refuses it anyway, whatever the server has
            String cls = classType.asString();
            if (nodes != null && !nodes.has(cls)) {
                out.add(new Shortfall(e.getKey() + ".class_type", "node class '" + cls + "' is not installed (a custom node?)"));
                continue;
            }
            Map<String, String> fileInputs = new LinkedHashMap<>(CORE_FILE_INPUTS.getOrDefault(cls, Map.of()));
            if (nodes != null) nodes.get(cls).properties().forEach(x -> fileInputs.put(x.getKey(), x.getValue().asString()));
            for (Map.Entry<String, String> in : fileInputs.entrySet()) {
                JsonNode value = e.getValue().path("inputs").get(in.getKey());
                JsonNode files = folders.get(in.getValue());
                if (value == null || !value.isString() || files == null || !files.isArray()) continue; // a link, or unknown
                String name = value.asString();
                if (contains(files, name) || declared && in.getValue().equals("vae") && BUILT_IN_VAES.contains(name)) continue;
                out.add(new Shortfall(e.getKey() + ".inputs." + in.getKey(),
                        "'" + name + "' is not in its models/" + in.getValue() + " folder (" + describe(files) + ")"));
            }
        }
        return out;
    }

    /** A combo input's choices in an object_info entry ({@code [[...], {...}]} or {@code ["COMBO", {"options": [...]}]}), or null. */
    static List<String> combo(JsonNode nodeInfo, String input) {
        JsonNode spec = nodeInfo.path("input").path("required").get(input);
        if (spec == null) spec = nodeInfo.path("input").path("optional").get(input);
        if (spec == null || !spec.isArray() || spec.isEmpty()) return null;
        JsonNode list = spec.get(0).isArray() ? spec.get(0)
                : "COMBO".equals(spec.get(0).asString(null)) ? spec.path(1).path("options") : null;
        if (list == null || !list.isArray()) return null;
        List<String> out = new ArrayList<>(list.size());
        for (JsonNode x : list) {
            if (!x.isString()) return null; // a numeric choice list is no folder
            out.add(x.asString());
        }
        return out;
    }

    private static String folderListing(ObjectNode folders, List<String> options) {
        for (Map.Entry<String, JsonNode> f : folders.properties()) {
            if (f.getValue().size() != options.size()) continue;
            boolean same = true;
            for (int i = 0; same && i < options.size(); i++) same = f.getValue().get(i).asString().equals(options.get(i));
            if (same) return f.getKey();
        }
        return null;
    }

    private static boolean contains(JsonNode files, String name) {
        for (JsonNode f : files) if (name.equals(f.asString())) return true;
        return false;
    }

    private static String describe(JsonNode files) {
        if (files.isEmpty()) return "it holds none";
        List<String> names = new ArrayList<>();
        for (int i = 0; i < Math.min(8, files.size()); i++) names.add(files.get(i).asString());
        return "it holds " + String.join(", ", names) + (files.size() > 8 ? " and " + (files.size() - 8) + " more" : "");
    }

    private static ArrayNode array(List<String> items) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        items.forEach(a::add);
        return a;
    }

    private static List<String> split(String s) {
        if (s == null || s.isBlank()) return List.of();
        List<String> out = new ArrayList<>();
        for (String part : s.split("[,\\n]")) if (!part.isBlank()) out.add(part.trim());
        return out;
    }
}

package dev.kiln.emulator.comfy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What an emulated ComfyUI has installed: the files of its model folders ({@code models/checkpoints},
 * {@code models/diffusion_models}, {@code models/loras}, …, as ComfyUI's {@code folder_paths} names
 * them) and the custom node classes beyond ComfyUI's core nodes. {@code /object_info} lists exactly
 * these, and {@code /prompt} refuses a node class that is not installed ({@code missing_node_type})
 * and a file name that is not in its folder ({@code value_not_in_list}), as ComfyUI does.
 *
 * @param models folder name → file names (relative to the folder, as {@code get_filename_list} answers them)
 * @param customNodes class types of installed custom nodes (e.g. {@code VHS_VideoCombine})
 */
public record ComfyInventory(Map<String, List<String>> models, Set<String> customNodes) {

    /** The folders ComfyUI's core loaders read, which {@link #withEntries} accepts. */
    public static final Set<String> FOLDERS = Set.of("checkpoints", "diffusion_models", "text_encoders", "vae", "loras",
            "clip_vision", "upscale_models", "controlnet");

    public ComfyInventory {
        Map<String, List<String>> m = new TreeMap<>();
        models.forEach((folder, files) -> m.put(folder, List.copyOf(new TreeSet<>(files))));
        models = java.util.Collections.unmodifiableMap(m);
        customNodes = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(customNodes));
    }

    /** Core nodes only, every model folder empty (a fresh ComfyUI install). */
    public static ComfyInventory empty() {
        return new ComfyInventory(Map.of(), Set.of());
    }

    /**
     * What the shipped catalogue's workflows need (server/src/main/resources/catalog/workflows):
     * Pony V6 XL, FLUX.1 dev NF4 (custom node {@code CheckpointLoaderNF4} of
     * comfyanonymous/ComfyUI_bitsandbytes_NF4), Qwen-Image and its Lightning LoRAs, WAN 2.2 Rapid
     * AllInOne (both lighting variants), Index-AniSora V3.2 with WAN's text encoder, VAE and CLIP
     * vision, and VideoHelperSuite's {@code VHS_VideoCombine}; plus one upscale model.
     */
    public static ComfyInventory sandbox() {
        return empty()
                .withModels("checkpoints", "ponyDiffusionV6XL_v6StartWithThisOne.safetensors", "flux1-dev-bnb-nf4-v2.safetensors",
                        "wan2.2-rapid-mega-aio-nsfw-ln.safetensors", "wan2.2-rapid-mega-aio-nsfw-hn.safetensors")
                .withModels("diffusion_models", "anisora_v3.2_i2v_14B_fp8_e4m3fn.safetensors", "qwen_image_fp8_e4m3fn.safetensors")
                .withModels("text_encoders", "umt5_xxl_fp8_e4m3fn_scaled.safetensors", "qwen_2.5_vl_7b_fp8_scaled.safetensors")
                .withModels("vae", "wan_2.1_vae.safetensors", "qwen_image_vae.safetensors")
                .withModels("loras", "Qwen-Image-Lightning-4steps-V1.0.safetensors", "Qwen-Image-Lightning-8steps-V1.1.safetensors")
                .withModels("clip_vision", "clip_vision_h.safetensors")
                .withModels("upscale_models", "RealESRGAN_x4plus.pth")
                .withCustomNodes("CheckpointLoaderNF4", "VHS_VideoCombine");
    }

    /** This inventory with more files in one folder. */
    public ComfyInventory withModels(String folder, String... files) {
        Map<String, List<String>> m = new TreeMap<>(models);
        List<String> list = new ArrayList<>(m.getOrDefault(folder, List.of()));
        list.addAll(List.of(files));
        m.put(folder, list);
        return new ComfyInventory(m, customNodes);
    }

    /** This inventory with more custom node classes installed. */
    public ComfyInventory withCustomNodes(String... classTypes) {
        Set<String> s = new LinkedHashSet<>(customNodes);
        s.addAll(List.of(classTypes));
        return new ComfyInventory(models, s);
    }

    /**
     * This inventory with more files, each written {@code folder/file} (e.g.
     * {@code checkpoints/sdxl/juggernaut.safetensors}: the first segment is the folder).
     *
     * @throws IllegalArgumentException for an entry without a folder, or a folder ComfyUI's core loaders do not read
     */
    public ComfyInventory withEntries(Collection<String> entries) {
        ComfyInventory out = this;
        for (String raw : entries) {
            String e = raw.trim();
            if (e.isEmpty()) continue;
            int slash = e.indexOf('/');
            if (slash <= 0 || slash == e.length() - 1) {
                throw new IllegalArgumentException("model '" + e + "' must be written folder/file, e.g. checkpoints/model.safetensors");
            }
            String folder = e.substring(0, slash);
            if (!FOLDERS.contains(folder)) {
                throw new IllegalArgumentException("model folder '" + folder + "' is not one of " + new TreeSet<>(FOLDERS));
            }
            out = out.withModels(folder, e.substring(slash + 1));
        }
        return out;
    }

    /** The files of a folder, sorted as ComfyUI's {@code folder_paths.get_filename_list} sorts them. */
    public List<String> files(String folder) {
        return models.getOrDefault(folder, List.of());
    }

    /** Whether a node class can run here: one of ComfyUI's core nodes the machine knows, or an installed custom node. */
    public boolean has(String classType) {
        ComfyNodes.Spec s = ComfyNodes.spec(classType);
        return s != null && s.pack() == null || customNodes.contains(classType);
    }

    /** The node classes {@code /object_info} lists: the core ones the machine knows, then the installed custom ones. */
    public Set<String> nodeClasses() {
        Set<String> out = new LinkedHashSet<>();
        ComfyNodes.all().forEach((cls, spec) -> {
            if (spec.pack() == null) out.add(cls);
        });
        out.addAll(customNodes);
        return out;
    }
}

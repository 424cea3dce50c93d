package dev.kiln.emulator.comfy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The node classes the graph machine knows: their inputs (name, type, required, range) and output
 * types, as ComfyUI's {@code INPUT_TYPES} / {@code RETURN_TYPES} declare them. Classes not listed
 * here are custom nodes: accepted, not validated beyond their links, and passed through.
 */
final class ComfyNodes {
    /** Input types whose values are links to other nodes' outputs; the rest are widgets (literals). */
    static final Set<String> LINK_TYPES = Set.of("MODEL", "CLIP", "VAE", "CONDITIONING", "LATENT", "IMAGE", "MASK",
            "CLIP_VISION", "CLIP_VISION_OUTPUT", "AUDIO");

    record Input(String name, String type, boolean required, Double min, Double max) {
        boolean link() {
            return LINK_TYPES.contains(type);
        }
    }

    record Spec(String classType, List<Input> inputs, List<String> outputs, boolean outputNode, String category) {
        Input input(String name) {
            for (Input i : inputs) if (i.name().equals(name)) return i;
            return null;
        }
    }

    private static final double MAX_RES = 16384;
    private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

    static {
        add("CheckpointLoaderSimple", "loaders", false, List.of(combo("ckpt_name")), "MODEL", "CLIP", "VAE");
        add("CheckpointLoaderNF4", "loaders", false, List.of(combo("ckpt_name")), "MODEL", "CLIP", "VAE");
        add("UNETLoader", "advanced/loaders", false, List.of(combo("unet_name"), combo("weight_dtype")), "MODEL");
        add("CLIPLoader", "advanced/loaders", false, List.of(combo("clip_name"), combo("type"), opt("device", "COMBO")), "CLIP");
        add("VAELoader", "loaders", false, List.of(combo("vae_name")), "VAE");
        add("CLIPVisionLoader", "loaders", false, List.of(combo("clip_name")), "CLIP_VISION");
        add("LoraLoaderModelOnly", "loaders", false, List.of(req("model", "MODEL"), combo("lora_name"),
                num("strength_model", "FLOAT", -100, 100)), "MODEL");
        add("LoraLoader", "loaders", false, List.of(req("model", "MODEL"), req("clip", "CLIP"), combo("lora_name"),
                num("strength_model", "FLOAT", -100, 100), num("strength_clip", "FLOAT", -100, 100)), "MODEL", "CLIP");
        add("ModelSamplingSD3", "advanced/model", false, List.of(req("model", "MODEL"), num("shift", "FLOAT", 0, 100)), "MODEL");
        add("ModelSamplingAuraFlow", "advanced/model", false, List.of(req("model", "MODEL"), num("shift", "FLOAT", 0, 100)), "MODEL");
        add("CLIPSetLastLayer", "conditioning", false, List.of(req("clip", "CLIP"), num("stop_at_clip_layer", "INT", -24, -1)), "CLIP");
        add("CLIPTextEncode", "conditioning", false, List.of(req("text", "STRING"), req("clip", "CLIP")), "CONDITIONING");
        add("FluxGuidance", "advanced/conditioning/flux", false, List.of(req("conditioning", "CONDITIONING"),
                num("guidance", "FLOAT", 0, 100)), "CONDITIONING");
        add("ConditioningSetAreaStrength", "conditioning", false, List.of(req("conditioning", "CONDITIONING"),
                num("strength", "FLOAT", 0, 10)), "CONDITIONING");
        add("CLIPVisionEncode", "conditioning", false, List.of(req("clip_vision", "CLIP_VISION"), req("image", "IMAGE"),
                combo("crop")), "CLIP_VISION_OUTPUT");
        add("EmptyLatentImage", "latent", false, List.of(num("width", "INT", 16, MAX_RES), num("height", "INT", 16, MAX_RES),
                num("batch_size", "INT", 1, 4096)), "LATENT");
        add("EmptySD3LatentImage", "latent/sd3", false, List.of(num("width", "INT", 16, MAX_RES), num("height", "INT", 16, MAX_RES),
                num("batch_size", "INT", 1, 4096)), "LATENT");
        add("EmptyHunyuanLatentVideo", "latent/video", false, List.of(num("width", "INT", 16, MAX_RES),
                num("height", "INT", 16, MAX_RES), num("length", "INT", 1, MAX_RES), num("batch_size", "INT", 1, 4096)), "LATENT");
        add("KSampler", "sampling", false, List.of(req("model", "MODEL"), num("seed", "INT", 0, 1.8446744073709552E19),
                num("steps", "INT", 1, 10000), num("cfg", "FLOAT", 0, 100), combo("sampler_name"), combo("scheduler"),
                req("positive", "CONDITIONING"), req("negative", "CONDITIONING"), req("latent_image", "LATENT"),
                num("denoise", "FLOAT", 0, 1)), "LATENT");
        add("KSamplerAdvanced", "sampling", false, List.of(req("model", "MODEL"), combo("add_noise"),
                num("noise_seed", "INT", 0, 1.8446744073709552E19), num("steps", "INT", 1, 10000), num("cfg", "FLOAT", 0, 100),
                combo("sampler_name"), combo("scheduler"), req("positive", "CONDITIONING"), req("negative", "CONDITIONING"),
                req("latent_image", "LATENT"), num("start_at_step", "INT", 0, 10000), num("end_at_step", "INT", 0, 10000),
                combo("return_with_leftover_noise")), "LATENT");
        add("VAEDecode", "latent", false, List.of(req("samples", "LATENT"), req("vae", "VAE")), "IMAGE");
        add("VAEEncode", "latent", false, List.of(req("pixels", "IMAGE"), req("vae", "VAE")), "LATENT");
        add("LoadImage", "image", false, List.of(combo("image")), "IMAGE", "MASK");
        add("ImageScale", "image/upscaling", false, List.of(req("image", "IMAGE"), combo("upscale_method"),
                num("width", "INT", 0, MAX_RES), num("height", "INT", 0, MAX_RES), combo("crop")), "IMAGE");
        add("ImageScaleBy", "image/upscaling", false, List.of(req("image", "IMAGE"), combo("upscale_method"),
                num("scale_by", "FLOAT", 0.01, 8)), "IMAGE");
        add("WanImageToVideo", "conditioning/video_models", false, List.of(req("positive", "CONDITIONING"),
                req("negative", "CONDITIONING"), req("vae", "VAE"), num("width", "INT", 16, MAX_RES), num("height", "INT", 16, MAX_RES),
                num("length", "INT", 1, MAX_RES), num("batch_size", "INT", 1, 4096), opt("clip_vision_output", "CLIP_VISION_OUTPUT"),
                opt("start_image", "IMAGE")), "CONDITIONING", "CONDITIONING", "LATENT");
        add("WanFirstLastFrameToVideo", "conditioning/video_models", false, List.of(req("positive", "CONDITIONING"),
                req("negative", "CONDITIONING"), req("vae", "VAE"), num("width", "INT", 16, MAX_RES), num("height", "INT", 16, MAX_RES),
                num("length", "INT", 1, MAX_RES), num("batch_size", "INT", 1, 4096),
                opt("clip_vision_start_image", "CLIP_VISION_OUTPUT"), opt("clip_vision_end_image", "CLIP_VISION_OUTPUT"),
                opt("start_image", "IMAGE"), opt("end_image", "IMAGE")), "CONDITIONING", "CONDITIONING", "LATENT");
        add("SaveImage", "image", true, List.of(req("images", "IMAGE"), req("filename_prefix", "STRING")));
        add("PreviewImage", "image", true, List.of(req("images", "IMAGE")));
        add("SaveAnimatedWEBP", "image/animation", true, List.of(req("images", "IMAGE"), req("filename_prefix", "STRING"),
                num("fps", "FLOAT", 0.01, 1000), opt("lossless", "BOOLEAN"), opt("quality", "INT"), opt("method", "COMBO")));
        add("SaveAnimatedPNG", "image/animation", true, List.of(req("images", "IMAGE"), req("filename_prefix", "STRING"),
                num("fps", "FLOAT", 0.01, 1000), opt("compress_level", "INT")));
        add("VHS_VideoCombine", "Video Helper Suite", true, List.of(req("images", "IMAGE"), num("frame_rate", "FLOAT", 1, 1000),
                num("loop_count", "INT", 0, 100), req("filename_prefix", "STRING"), combo("format"), req("pingpong", "BOOLEAN"),
                req("save_output", "BOOLEAN"), opt("audio", "AUDIO")));
    }

    private ComfyNodes() {}

    static Spec spec(String classType) {
        return SPECS.get(classType);
    }

    static Map<String, Spec> all() {
        return SPECS;
    }

    /**
     * Whether a node is an output node: a known one flagged so, or a custom node whose name says it
     * saves or previews (custom save nodes are common; ComfyUI reads OUTPUT_NODE from the class).
     */
    static boolean isOutput(String classType) {
        Spec s = SPECS.get(classType);
        if (s != null) return s.outputNode();
        String c = classType.toLowerCase(Locale.ROOT);
        return c.contains("save") || c.contains("preview") || c.contains("videocombine");
    }

    private static void add(String cls, String category, boolean output, List<Input> inputs, String... outputs) {
        SPECS.put(cls, new Spec(cls, inputs, List.of(outputs), output, category));
    }

    private static Input req(String name, String type) {
        return new Input(name, type, true, null, null);
    }

    private static Input opt(String name, String type) {
        return new Input(name, type, false, null, null);
    }

    private static Input combo(String name) {
        return new Input(name, "COMBO", true, null, null);
    }

    private static Input num(String name, String type, double min, double max) {
        return new Input(name, type, true, min, max);
    }
}

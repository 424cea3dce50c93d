package dev.kiln.emulator.comfy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The node classes the graph machine knows: their inputs (name, type, required, range, and for
 * combos the choice list or the model folder it lists) and output types, as ComfyUI's
 * {@code INPUT_TYPES} / {@code RETURN_TYPES} declare them (Comfy-Org/ComfyUI {@code nodes.py},
 * {@code comfy/samplers.py}, {@code comfy_extras/}; custom packs from their own repositories).
 * A class with a {@code pack} is a custom node: it exists only where the {@link ComfyInventory}
 * installs it. Installed custom classes not listed here are accepted and pass their inputs through.
 */
final class ComfyNodes {
    /** Input types whose values are links to other nodes' outputs; the rest are widgets (literals). */
    static final Set<String> LINK_TYPES = Set.of("MODEL", "CLIP", "VAE", "CONDITIONING", "LATENT", "IMAGE", "MASK",
            "CLIP_VISION", "CLIP_VISION_OUTPUT", "AUDIO", "UPSCALE_MODEL");

    /** The folder name of a {@code LoadImage}-style combo: the uploaded input files. */
    static final String INPUT_FOLDER = "input";

    /**
     * One input.
     *
     * @param choices a combo's fixed choices (null when it lists a folder, or for other types)
     * @param folder the model folder a combo lists ({@code checkpoints}, …, or {@link #INPUT_FOLDER}), else null
     * @param extra choices a folder combo lists after its files ({@code VAELoader}: {@code pixel_space})
     */
    record Input(String name, String type, boolean required, Double min, Double max, List<String> choices, String folder,
                 List<String> extra) {
        boolean link() {
            return LINK_TYPES.contains(type);
        }

        /** The combo's choices on a server with this inventory and these uploaded inputs; null for other types. */
        List<String> choices(ComfyInventory inventory, Collection<String> inputFiles) {
            if (!type.equals("COMBO")) return null;
            if (folder == null) return choices;
            List<String> out = new ArrayList<>(folder.equals(INPUT_FOLDER) ? inputFiles.stream().sorted().toList() : inventory.files(folder));
            out.addAll(extra);
            return out;
        }
    }

    /**
     * One node class.
     *
     * @param pack the custom node pack it comes from, or null for ComfyUI's own nodes
     * @param v3 declared with ComfyUI's V3 schema ({@code comfy_api.latest.io}), whose combos
     *     {@code /object_info} writes as {@code ["COMBO", {"options": [...]}]} instead of {@code [[...]]}
     * @param module {@code python_module} in {@code /object_info}
     */
    record Spec(String classType, List<Input> inputs, List<String> outputs, boolean outputNode, String category, String pack,
                boolean v3, String module) {
        Input input(String name) {
            for (Input i : inputs) if (i.name().equals(name)) return i;
            return null;
        }
    }

    private static final double MAX_RES = 16384;
    private static final double MAX_SEED = 1.8446744073709552E19;

    /** comfy/samplers.py: {@code KSampler.SAMPLERS} ({@code KSAMPLER_NAMES + ["ddim", "uni_pc", "uni_pc_bh2"]}). */
    static final List<String> SAMPLERS = List.of("euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun",
            "heunpp2", "dpm_2", "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp",
            "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu", "dpmpp_2m_sde_heun",
            "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm", "ipndm", "ipndm_v", "deis", "res_multistep",
            "res_multistep_cfg_pp", "res_multistep_ancestral", "res_multistep_ancestral_cfg_pp", "gradient_estimation",
            "gradient_estimation_cfg_pp", "er_sde", "seeds_2", "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc", "uni_pc_bh2");
    /** comfy/samplers.py: {@code SCHEDULER_NAMES}. */
    static final List<String> SCHEDULERS = List.of("simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal",
            "linear_quadratic", "kl_optimal");
    static final List<String> UPSCALE_METHODS = List.of("nearest-exact", "bilinear", "area", "bicubic", "lanczos");
    /**
     * ComfyUI-VideoHelperSuite {@code VideoCombine}: {@code ["image/gif", "image/webp"]} plus
     * {@code "video/" + name} of each {@code video_formats/*.json} it ships (gifski's only when the
     * gifski binary is installed, so not here).
     */
    static final List<String> VHS_FORMATS = List.of("image/gif", "image/webp", "video/16bit-png", "video/8bit-png", "video/ProRes",
            "video/av1-webm", "video/ffmpeg-gif", "video/ffv1-mkv", "video/h264-mp4", "video/h265-mp4", "video/nvenc_av1-mp4",
            "video/nvenc_h264-mp4", "video/nvenc_hevc-mp4", "video/webm");

    private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

    static {
        // nodes.py
        add("CheckpointLoaderSimple", "loaders", List.of(files("ckpt_name", "checkpoints")), "MODEL", "CLIP", "VAE");
        add("UNETLoader", "advanced/loaders", List.of(files("unet_name", "diffusion_models"),
                choice("weight_dtype", "default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2")), "MODEL");
        add("CLIPLoader", "advanced/loaders", List.of(files("clip_name", "text_encoders"),
                choice("type", "stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv", "pixart", "cosmos", "lumina2",
                        "wan", "hidream", "chroma", "ace", "omnigen2", "qwen_image", "hunyuan_image"),
                optional(choice("device", "default", "cpu"))), "CLIP");
        add("DualCLIPLoader", "advanced/loaders", List.of(files("clip_name1", "text_encoders"), files("clip_name2", "text_encoders"),
                choice("type", "sdxl", "sd3", "flux", "hunyuan_video", "hidream", "hunyuan_image"),
                optional(choice("device", "default", "cpu"))), "CLIP");
        add("VAELoader", "loaders", List.of(new Input("vae_name", "COMBO", true, null, null, null, "vae", List.of("pixel_space"))), "VAE");
        add("CLIPVisionLoader", "loaders", List.of(files("clip_name", "clip_vision")), "CLIP_VISION");
        add("LoraLoaderModelOnly", "loaders", List.of(req("model", "MODEL"), files("lora_name", "loras"),
                num("strength_model", "FLOAT", -100, 100)), "MODEL");
        add("LoraLoader", "loaders", List.of(req("model", "MODEL"), req("clip", "CLIP"), files("lora_name", "loras"),
                num("strength_model", "FLOAT", -100, 100), num("strength_clip", "FLOAT", -100, 100)), "MODEL", "CLIP");
        add("CLIPSetLastLayer", "conditioning", List.of(req("clip", "CLIP"), num("stop_at_clip_layer", "INT", -24, -1)), "CLIP");
        add("CLIPTextEncode", "conditioning", List.of(req("text", "STRING"), req("clip", "CLIP")), "CONDITIONING");
        add("ConditioningSetAreaStrength", "conditioning", List.of(req("conditioning", "CONDITIONING"),
                num("strength", "FLOAT", 0, 10)), "CONDITIONING");
        add("CLIPVisionEncode", "conditioning", List.of(req("clip_vision", "CLIP_VISION"), req("image", "IMAGE"),
                choice("crop", "center", "none")), "CLIP_VISION_OUTPUT");
        add("EmptyLatentImage", "latent", List.of(num("width", "INT", 16, MAX_RES), num("height", "INT", 16, MAX_RES),
                num("batch_size", "INT", 1, 4096)), "LATENT");
        add("KSampler", "sampling", List.of(req("model", "MODEL"), num("seed", "INT", 0, MAX_SEED),
                num("steps", "INT", 1, 10000), num("cfg", "FLOAT", 0, 100), choice("sampler_name", SAMPLERS), choice("scheduler", SCHEDULERS),
                req("positive", "CONDITIONING"), req("negative", "CONDITIONING"), req("latent_image", "LATENT"),
                num("denoise", "FLOAT", 0, 1)), "LATENT");
        add("KSamplerAdvanced", "sampling", List.of(req("model", "MODEL"), choice("add_noise", "enable", "disable"),
                num("noise_seed", "INT", 0, MAX_SEED), num("steps", "INT", 1, 10000), num("cfg", "FLOAT", 0, 100),
                choice("sampler_name", SAMPLERS), choice("scheduler", SCHEDULERS), req("positive", "CONDITIONING"),
                req("negative", "CONDITIONING"), req("latent_image", "LATENT"), num("start_at_step", "INT", 0, 10000),
                num("end_at_step", "INT", 0, 10000), choice("return_with_leftover_noise", "disable", "enable")), "LATENT");
        add("VAEDecode", "latent", List.of(req("samples", "LATENT"), req("vae", "VAE")), "IMAGE");
        add("VAEEncode", "latent", List.of(req("pixels", "IMAGE"), req("vae", "VAE")), "LATENT");
        add("LoadImage", "image", List.of(new Input("image", "COMBO", true, null, null, null, INPUT_FOLDER, List.of())), "IMAGE", "MASK");
        add("ImageScale", "image/upscaling", List.of(req("image", "IMAGE"), choice("upscale_method", UPSCALE_METHODS),
                num("width", "INT", 0, MAX_RES), num("height", "INT", 0, MAX_RES), choice("crop", "disabled", "center")), "IMAGE");
        add("ImageScaleBy", "image/upscaling", List.of(req("image", "IMAGE"), choice("upscale_method", UPSCALE_METHODS),
                num("scale_by", "FLOAT", 0.01, 8)), "IMAGE");
        output("SaveImage", "image", List.of(req("images", "IMAGE"), req("filename_prefix", "STRING")));
        output("PreviewImage", "image", List.of(req("images", "IMAGE")));
        // comfy_extras/
        add("ModelSamplingSD3", "advanced/model", List.of(req("model", "MODEL"), num("shift", "FLOAT", 0, 100)), "MODEL");
        add("ModelSamplingAuraFlow", "advanced/model", List.of(req("model", "MODEL"), num("shift", "FLOAT", 0, 100)), "MODEL");
        add("FluxGuidance", "advanced/conditioning/flux", List.of(req("conditioning", "CONDITIONING"),
                num("guidance", "FLOAT", 0, 100)), "CONDITIONING");
        add("EmptySD3LatentImage", "latent/sd3", List.of(num("width", "INT", 16, MAX_RES), num("height", "INT", 16, MAX_RES),
                num("batch_size", "INT", 1, 4096)), "LATENT");
        add("EmptyHunyuanLatentVideo", "latent/video", List.of(num("width", "INT", 16, MAX_RES),
                num("height", "INT", 16, MAX_RES), num("length", "INT", 1, MAX_RES), num("batch_size", "INT", 1, 4096)), "LATENT");
        add("WanImageToVideo", "conditioning/video_models", List.of(req("positive", "CONDITIONING"),
                req("negative", "CONDITIONING"), req("vae", "VAE"), num("width", "INT", 16, MAX_RES), num("height", "INT", 16, MAX_RES),
                num("length", "INT", 1, MAX_RES), num("batch_size", "INT", 1, 4096), opt("clip_vision_output", "CLIP_VISION_OUTPUT"),
                opt("start_image", "IMAGE")), "CONDITIONING", "CONDITIONING", "LATENT");
        add("WanFirstLastFrameToVideo", "conditioning/video_models", List.of(req("positive", "CONDITIONING"),
                req("negative", "CONDITIONING"), req("vae", "VAE"), num("width", "INT", 16, MAX_RES), num("height", "INT", 16, MAX_RES),
                num("length", "INT", 1, MAX_RES), num("batch_size", "INT", 1, 4096),
                opt("clip_vision_start_image", "CLIP_VISION_OUTPUT"), opt("clip_vision_end_image", "CLIP_VISION_OUTPUT"),
                opt("start_image", "IMAGE"), opt("end_image", "IMAGE")), "CONDITIONING", "CONDITIONING", "LATENT");
        output("SaveAnimatedWEBP", "image/animation", List.of(req("images", "IMAGE"), req("filename_prefix", "STRING"),
                num("fps", "FLOAT", 0.01, 1000), req("lossless", "BOOLEAN"), num("quality", "INT", 0, 100),
                choice("method", "default", "fastest", "slowest")));
        output("SaveAnimatedPNG", "image/animation", List.of(req("images", "IMAGE"), req("filename_prefix", "STRING"),
                num("fps", "FLOAT", 0.01, 1000), num("compress_level", "INT", 0, 9)));
        // comfy_extras/nodes_upscale_model.py, declared with the V3 schema
        SPECS.put("UpscaleModelLoader", new Spec("UpscaleModelLoader", List.of(files("model_name", "upscale_models")),
                List.of("UPSCALE_MODEL"), false, "loaders", null, true, "comfy_extras.nodes_upscale_model"));
        SPECS.put("ImageUpscaleWithModel", new Spec("ImageUpscaleWithModel", List.of(req("upscale_model", "UPSCALE_MODEL"),
                req("image", "IMAGE")), List.of("IMAGE"), false, "image/upscaling", null, true, "comfy_extras.nodes_upscale_model"));
        // Custom node packs: present only where installed.
        custom("CheckpointLoaderNF4", "ComfyUI_bitsandbytes_NF4", "loaders", false, List.of(files("ckpt_name", "checkpoints")),
                "MODEL", "CLIP", "VAE");
        custom("VHS_VideoCombine", "ComfyUI-VideoHelperSuite", "Video Helper Suite 🎥🅥🅗🅢", true, List.of(req("images", "IMAGE"),
                num("frame_rate", "FLOAT", 1, 1000), num("loop_count", "INT", 0, 100), req("filename_prefix", "STRING"),
                choice("format", VHS_FORMATS), req("pingpong", "BOOLEAN"), req("save_output", "BOOLEAN"), opt("audio", "AUDIO")),
                "VHS_FILENAMES");
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

    private static void add(String cls, String category, List<Input> inputs, String... outputs) {
        SPECS.put(cls, new Spec(cls, inputs, List.of(outputs), false, category, null, false, "nodes"));
    }

    private static void output(String cls, String category, List<Input> inputs) {
        SPECS.put(cls, new Spec(cls, inputs, List.of(), true, category, null, false, "nodes"));
    }

    private static void custom(String cls, String pack, String category, boolean output, List<Input> inputs, String... outputs) {
        SPECS.put(cls, new Spec(cls, inputs, List.of(outputs), output, category, pack, false, "custom_nodes." + pack));
    }

    private static Input req(String name, String type) {
        return new Input(name, type, true, null, null, null, null, List.of());
    }

    private static Input opt(String name, String type) {
        return new Input(name, type, false, null, null, null, null, List.of());
    }

    private static Input optional(Input in) {
        return new Input(in.name(), in.type(), false, in.min(), in.max(), in.choices(), in.folder(), in.extra());
    }

    private static Input choice(String name, String... choices) {
        return choice(name, List.of(choices));
    }

    private static Input choice(String name, List<String> choices) {
        return new Input(name, "COMBO", true, null, null, List.copyOf(choices), null, List.of());
    }

    private static Input files(String name, String folder) {
        return new Input(name, "COMBO", true, null, null, null, folder, List.of());
    }

    private static Input num(String name, String type, double min, double max) {
        return new Input(name, type, true, min, max, null, null, List.of());
    }
}

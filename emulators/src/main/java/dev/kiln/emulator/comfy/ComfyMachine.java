package dev.kiln.emulator.comfy;

import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.emulator.render.SandboxVideoRenderer;
import dev.kiln.emulator.support.Json;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Executes validated ComfyUI graphs for the sandbox: nodes run in dependency order and carry
 * stand-in values (conditioning text, latent sizes, frame counts, seeds) instead of tensors, and
 * output nodes render real media with {@link SandboxRenderer} whose pixels follow the prompt text
 * of the conditioning that fed the sampler, the seed, the width/height of the latent or loaded
 * image and the number of frames. Custom node classes pass their inputs through.
 *
 * <p>Both the ComfyUI and the RunPod (worker-comfyui) emulators run graphs here.
 */
public final class ComfyMachine {
    /** A node failed while running: ComfyUI's {@code execution_error}. */
    public static final class ExecutionError extends RuntimeException {
        private final String nodeId;
        private final String nodeType;
        private final String exceptionType;

        public ExecutionError(String nodeId, String nodeType, String exceptionType, String message) {
            super(message, null, false, false);
            this.nodeId = nodeId;
            this.nodeType = nodeType;
            this.exceptionType = exceptionType;
        }

        public String nodeId() { return nodeId; }
        public String nodeType() { return nodeType; }
        public String exceptionType() { return exceptionType; }
    }

    /** The run was interrupted (by {@code /interrupt} or a cancel): ComfyUI's {@code execution_interrupted}. */
    public static final class Interrupted extends RuntimeException {
        private final String nodeId;
        private final String nodeType;

        public Interrupted(String nodeId, String nodeType) {
            super("interrupted", null, false, false);
            this.nodeId = nodeId;
            this.nodeType = nodeType;
        }

        public String nodeId() { return nodeId; }
        public String nodeType() { return nodeType; }
    }

    /** Where inputs come from and outputs go (a ComfyUI's input/output/temp folders). */
    public interface Storage {
        /** The bytes of an uploaded input file, or null. */
        byte[] input(String name);

        /**
         * Stores an output and returns its file name, numbered as ComfyUI numbers them:
         * {@code prefix + "_" + 5-digit counter + suffix}, e.g. {@code pony_00001_.png}. The prefix is
         * the workflow's {@code filename_prefix}, data taken as it is (never a format string).
         *
         * @param type {@code output} or {@code temp}
         * @param suffix what follows the counter, e.g. {@code _.png} or {@code .mp4}
         */
        String save(String type, String subfolder, String prefix, String suffix, byte[] bytes);
    }

    /** What a run tells its caller as it goes; the emulators turn these into websocket messages. May throw. */
    public interface Listener {
        default void executing(String nodeId, String classType) {}

        default void progress(String nodeId, int value, int max) {}

        default void executed(String nodeId, ObjectNode ui) {}
    }

    /** One rendered video: bytes, MIME type and file extension. */
    public record Video(byte[] bytes, String mime, String extension) {}

    // ---- values flowing along links

    sealed interface Val permits Cond, Latent, Pixels, Opaque, Custom {}

    record Cond(String text) implements Val {}

    record Latent(int w, int h, int frames, int batch, String prompt, long seed) implements Val {}

    record Pixels(int w, int h, int frames, int batch, String prompt, long seed) implements Val {}

    record Opaque(String what) implements Val {}

    /** A custom node's output: what went in, resolved by the consumer according to the type it wants. */
    record Custom(int slot, List<Val> linked, ObjectNode widgets) implements Val {}

    private final ComfyGraph graph;
    private final Storage storage;
    private final Listener listener;
    private final Map<String, List<Val>> results = new HashMap<>();
    private final Map<String, ObjectNode> outputs = new LinkedHashMap<>();

    private ComfyMachine(ComfyGraph graph, Storage storage, Listener listener) {
        this.graph = graph;
        this.storage = storage;
        this.listener = listener;
    }

    /**
     * Runs the given output nodes of a validated graph and returns each output node's UI output
     * ({@code {"images":[{filename,subfolder,type}]}}, {@code {"gifs":[...]}}), in execution order.
     *
     * @throws ExecutionError when a node fails
     * @throws Interrupted when the listener interrupts the run
     */
    public static Map<String, ObjectNode> run(ComfyGraph graph, List<String> outputNodes, Storage storage, Listener listener) {
        ComfyMachine m = new ComfyMachine(graph, storage, listener);
        for (String id : outputNodes) m.eval(id, new HashSet<>());
        return m.outputs;
    }

    /** The sampler steps a graph will report progress for (sum over its samplers), at least 1. */
    public static int totalSteps(ComfyGraph graph) {
        int steps = 0;
        for (ComfyGraph.Node n : graph.nodes().values()) {
            if (n.classType().startsWith("KSampler")) {
                Double s = ComfyGraph.isLink(n.inputs().get("steps")) ? null : number(n.inputs().get("steps"));
                steps += s == null ? 1 : (int) Math.max(1, Math.min(10_000, s));
            }
        }
        return Math.max(1, steps);
    }

    private List<Val> eval(String id, Set<String> stack) {
        List<Val> done = results.get(id);
        if (done != null) return done;
        ComfyGraph.Node n = graph.node(id);
        if (n == null) throw new ExecutionError(id, "?", "KeyError", "node " + id + " does not exist");
        if (!stack.add(id)) throw new ExecutionError(id, n.classType(), "DependencyCycleError", "Dependency cycle detected");
        // Inputs first, in the order the node lists them: ComfyUI runs dependencies before the node.
        Map<String, Val> linked = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : n.inputs().properties()) {
            if (ComfyGraph.isLink(e.getValue())) {
                List<Val> vs = eval(e.getValue().get(0).asString(), stack);
                int slot = e.getValue().get(1).asInt();
                linked.put(e.getKey(), slot < vs.size() ? vs.get(slot) : vs.isEmpty() ? new Opaque("none") : vs.getLast());
            }
        }
        stack.remove(id);
        listener.executing(id, n.classType());
        List<Val> out;
        try {
            out = execute(n, linked);
        } catch (ExecutionError | Interrupted e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ExecutionError(id, n.classType(), "ValueError", e.getMessage());
        } catch (RuntimeException e) {
            throw new ExecutionError(id, n.classType(), e.getClass().getSimpleName(), String.valueOf(e.getMessage()));
        }
        results.put(id, out);
        return out;
    }

    private List<Val> execute(ComfyGraph.Node n, Map<String, Val> in) {
        ObjectNode w = n.inputs();
        String id = n.id();
        return switch (n.classType()) {
            case "CheckpointLoaderSimple", "CheckpointLoaderNF4" -> List.of(new Opaque("model"), new Opaque("clip"), new Opaque("vae"));
            case "UNETLoader", "LoraLoaderModelOnly", "ModelSamplingSD3", "ModelSamplingAuraFlow" -> List.of(new Opaque("model"));
            case "LoraLoader" -> List.of(new Opaque("model"), new Opaque("clip"));
            case "CLIPLoader", "DualCLIPLoader", "CLIPSetLastLayer" -> List.of(new Opaque("clip"));
            case "VAELoader" -> List.of(new Opaque("vae"));
            case "UpscaleModelLoader" -> List.of(new Opaque("upscale_model " + text(w.get("model_name"))));
            case "ImageUpscaleWithModel" -> {
                // The model's own factor: 4 for the common 4x models, 2 for those named 2x.
                Pixels p = pixels(in.get("image"));
                Val m = in.get("upscale_model");
                int f = m instanceof Opaque o && o.what().toLowerCase(java.util.Locale.ROOT).contains("2x") ? 2 : 4;
                yield List.of(new Pixels(p.w() * f, p.h() * f, p.frames(), p.batch(), p.prompt(), p.seed()));
            }
            case "CLIPVisionLoader" -> List.of(new Opaque("clip_vision"));
            case "CLIPVisionEncode" -> List.of(new Opaque("clip_vision_output"));
            case "CLIPTextEncode" -> List.of(new Cond(text(w.get("text"))));
            case "FluxGuidance", "ConditioningSetAreaStrength" -> List.of(cond(in.get("conditioning"), 0));
            case "EmptyLatentImage", "EmptySD3LatentImage" -> List.of(new Latent(integer(w, "width", 512), integer(w, "height", 512), 1,
                    integer(w, "batch_size", 1), null, 0));
            case "EmptyHunyuanLatentVideo" -> List.of(new Latent(integer(w, "width", 848), integer(w, "height", 480),
                    integer(w, "length", 25), integer(w, "batch_size", 1), null, 0));
            case "WanImageToVideo", "WanFirstLastFrameToVideo" -> List.of(cond(in.get("positive"), 0), cond(in.get("negative"), 0),
                    new Latent(integer(w, "width", 832), integer(w, "height", 480), integer(w, "length", 81), integer(w, "batch_size", 1), null, 0));
            case "KSampler", "KSamplerAdvanced" -> List.of(sample(n, in));
            case "VAEDecode" -> {
                Latent l = latent(in.get("samples"));
                yield List.of(new Pixels(l.w(), l.h(), l.frames(), l.batch(), l.prompt(), l.seed()));
            }
            case "VAEEncode" -> {
                Pixels p = pixels(in.get("pixels"));
                yield List.of(new Latent(p.w(), p.h(), p.frames(), p.batch(), p.prompt(), p.seed()));
            }
            case "LoadImage" -> List.of(loadImage(n), new Opaque("mask"));
            case "ImageScale" -> {
                Pixels p = pixels(in.get("image"));
                int width = integer(w, "width", 0), height = integer(w, "height", 0);
                if (width == 0 && height == 0) { width = p.w(); height = p.h(); }
                else if (width == 0) width = Math.max(1, (int) Math.round((double) p.w() * height / p.h()));
                else if (height == 0) height = Math.max(1, (int) Math.round((double) p.h() * width / p.w()));
                yield List.of(new Pixels(width, height, p.frames(), p.batch(), p.prompt(), p.seed()));
            }
            case "ImageScaleBy" -> {
                Pixels p = pixels(in.get("image"));
                double s = number(w.get("scale_by")) == null ? 1 : number(w.get("scale_by"));
                yield List.of(new Pixels(Math.max(1, (int) Math.round(p.w() * s)), Math.max(1, (int) Math.round(p.h() * s)),
                        p.frames(), p.batch(), p.prompt(), p.seed()));
            }
            case "SaveImage" -> save(id, pixels(in.get("images")), "output", text(w.get("filename_prefix")));
            case "PreviewImage" -> save(id, pixels(in.get("images")), "temp", "ComfyUI_temp_" + tempSuffix(id));
            case "VHS_VideoCombine" -> videoCombine(n, pixels(in.get("images")));
            case "SaveAnimatedWEBP", "SaveAnimatedPNG" -> animated(n, pixels(in.get("images")));
            default -> custom(n, in);
        };
    }

    // ---- nodes

    private Val sample(ComfyGraph.Node n, Map<String, Val> in) {
        Latent l = latent(in.get("latent_image"));
        String prompt = cond(in.get("positive"), 0).text();
        JsonNode seedNode = n.inputs().has("noise_seed") ? n.inputs().get("noise_seed") : n.inputs().get("seed");
        Double seed = number(seedNode);
        int steps = Math.max(1, Math.min(10_000, integer(n.inputs(), "steps", 20)));
        for (int i = 1; i <= steps; i++) listener.progress(n.id(), i, steps);
        return new Latent(l.w(), l.h(), l.frames(), l.batch(), prompt, seed == null ? 0 : seed.longValue());
    }

    private Pixels loadImage(ComfyGraph.Node n) {
        String name = ComfyGraph.fileName(text(n.inputs().get("image")));
        byte[] bytes = storage.input(name);
        if (bytes == null) throw new ExecutionError(n.id(), n.classType(), "FileNotFoundError", "No such file: " + name);
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            img = null;
        }
        if (img == null) {
            throw new ExecutionError(n.id(), n.classType(), "UnidentifiedImageError", "cannot identify image file '" + name + "'");
        }
        return new Pixels(img.getWidth(), img.getHeight(), 1, 1, null, seedOf(bytes));
    }

    private List<Val> save(String id, Pixels p, String type, String prefix) {
        checkSize(id, p);
        Prefix pf = Prefix.of(prefix == null || prefix.isBlank() ? "ComfyUI" : prefix);
        ArrayNode images = Json.MAPPER.createArrayNode();
        int count = Math.max(1, p.frames()) * Math.max(1, p.batch());
        String prompt = p.prompt() == null ? "" : p.prompt();
        for (int i = 0; i < count; i++) {
            byte[] png = SandboxRenderer.render(prompt, p.seed() + i, p.w(), p.h(), "png");
            String file = storage.save(type, pf.subfolder, pf.name, "_.png", png);
            images.add(entry(file, pf.subfolder, type));
        }
        ObjectNode ui = Json.object();
        ui.set("images", images);
        emit(id, ui);
        return List.of();
    }

    private List<Val> videoCombine(ComfyGraph.Node n, Pixels p) {
        checkSize(n.id(), p);
        ObjectNode w = n.inputs();
        double fps = number(w.get("frame_rate")) == null ? 8 : number(w.get("frame_rate"));
        String format = text(w.get("format"));
        if (format.isBlank()) format = "image/gif";
        boolean save = !w.has("save_output") || w.get("save_output").asBoolean(true);
        String type = save ? "output" : "temp";
        int frames = Math.max(1, p.frames()) * Math.max(1, p.batch());
        if (w.path("pingpong").asBoolean(false)) frames = Math.max(1, frames * 2 - 2);
        Video v = renderVideo(format, p.w(), p.h(), frames, fps, p.prompt() == null ? "" : p.prompt(), p.seed());
        Prefix pf = Prefix.of(text(w.get("filename_prefix")).isBlank() ? "AnimateDiff" : text(w.get("filename_prefix")));
        String file = storage.save(type, pf.subfolder, pf.name, "." + v.extension(), v.bytes());
        ObjectNode e = entry(file, pf.subfolder, type);
        e.put("format", format);
        e.put("frame_rate", fps);
        ObjectNode ui = Json.object();
        ui.putArray("gifs").add(e);
        emit(n.id(), ui);
        return List.of();
    }

    private List<Val> animated(ComfyGraph.Node n, Pixels p) {
        checkSize(n.id(), p);
        ObjectNode w = n.inputs();
        double fps = number(w.get("fps")) == null ? 6 : number(w.get("fps"));
        String format = n.classType().equals("SaveAnimatedWEBP") ? "image/webp" : "image/png";
        Video v = renderVideo(format, p.w(), p.h(), Math.max(1, p.frames()) * Math.max(1, p.batch()), fps,
                p.prompt() == null ? "" : p.prompt(), p.seed());
        Prefix pf = Prefix.of(text(w.get("filename_prefix")).isBlank() ? "ComfyUI" : text(w.get("filename_prefix")));
        String file = storage.save("output", pf.subfolder, pf.name, "_." + v.extension(), v.bytes());
        ObjectNode ui = Json.object();
        ui.putArray("images").add(entry(file, pf.subfolder, "output"));
        ui.putArray("animated").add(true);
        emit(n.id(), ui);
        return List.of();
    }

    private List<Val> custom(ComfyGraph.Node n, Map<String, Val> in) {
        List<Val> linked = new ArrayList<>(in.values());
        if (ComfyNodes.isOutput(n.classType())) {
            Val first = linked.stream().filter(v -> v instanceof Pixels || v instanceof Latent || v instanceof Custom).findFirst().orElse(null);
            if (first == null) {
                emit(n.id(), Json.object());
                return List.of();
            }
            String prefix = n.inputs().has("filename_prefix") ? text(n.inputs().get("filename_prefix")) : "ComfyUI";
            return save(n.id(), pixels(first), "output", prefix);
        }
        // A custom node's outputs: up to 8 slots, each resolved when a consumer asks for a type.
        List<Val> out = new ArrayList<>();
        for (int i = 0; i < 8; i++) out.add(new Custom(i, linked, n.inputs()));
        return out;
    }

    private void emit(String id, ObjectNode ui) {
        outputs.put(id, ui);
        listener.executed(id, ui);
    }

    private static void checkSize(String id, Pixels p) {
        if (p.w() < 1 || p.h() < 1 || p.w() > SandboxRenderer.MAX_SIDE || p.h() > SandboxRenderer.MAX_SIDE) {
            throw new ExecutionError(id, "?", "ValueError", "image of " + p.w() + "x" + p.h() + " is outside 1.." + SandboxRenderer.MAX_SIDE
                    + " per side (the sandbox renderer's limit)");
        }
    }

    // ---- coercions (custom nodes pass their inputs through as the consumer needs them)

    private static Cond cond(Val v, int nth) {
        if (v instanceof Cond c) return c;
        if (v instanceof Custom c) {
            List<Cond> conds = new ArrayList<>();
            for (Val x : c.linked()) if (x instanceof Cond cc) conds.add(cc);
            else if (x instanceof Custom) conds.add(cond(x, 0));
            if (conds.isEmpty()) return new Cond("");
            return conds.get(Math.min(c.slot() + nth, conds.size() - 1));
        }
        return new Cond("");
    }

    private static Latent latent(Val v) {
        if (v instanceof Latent l) return l;
        if (v instanceof Pixels p) return new Latent(p.w(), p.h(), p.frames(), p.batch(), p.prompt(), p.seed());
        if (v instanceof Custom c) {
            for (Val x : c.linked()) if (x instanceof Latent l) return l;
            Pixels size = null;
            for (Val x : c.linked()) if (x instanceof Pixels p) { size = p; break; }
            ObjectNode w = c.widgets();
            int width = integer(w, "width", size == null ? 512 : size.w());
            int height = integer(w, "height", size == null ? 512 : size.h());
            int frames = integer(w, "length", integer(w, "num_frames", size == null ? 1 : size.frames()));
            return new Latent(width, height, frames, integer(w, "batch_size", 1), null, size == null ? 0 : size.seed());
        }
        return new Latent(512, 512, 1, 1, null, 0);
    }

    private static Pixels pixels(Val v) {
        if (v instanceof Pixels p) return p;
        if (v instanceof Custom c) {
            for (Val x : c.linked()) if (x instanceof Pixels p) return p;
        }
        Latent l = latent(v);
        return new Pixels(l.w(), l.h(), l.frames(), l.batch(), l.prompt(), l.seed());
    }

    // ---- helpers

    private record Prefix(String subfolder, String name) {
        static Prefix of(String prefix) {
            String p = prefix.replace('\\', '/');
            while (p.startsWith("/")) p = p.substring(1);
            if (p.contains("..")) throw new IllegalArgumentException("Saving image outside the output folder is not allowed.");
            int slash = p.lastIndexOf('/');
            return slash < 0 ? new Prefix("", p) : new Prefix(p.substring(0, slash), p.substring(slash + 1));
        }
    }

    private static ObjectNode entry(String filename, String subfolder, String type) {
        ObjectNode e = Json.object();
        e.put("filename", filename);
        e.put("subfolder", subfolder);
        e.put("type", type);
        return e;
    }

    private static String tempSuffix(String id) {
        StringBuilder sb = new StringBuilder();
        long h = seedOf(id.getBytes(StandardCharsets.UTF_8)) ^ System.nanoTime();
        for (int i = 0; i < 5; i++) {
            sb.append((char) ('a' + Math.floorMod(h, 26)));
            h /= 26;
        }
        return sb.toString();
    }

    static String text(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) return "";
        return v.isString() ? v.asString() : v.toString();
    }

    static Double number(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) return null;
        if (v.isNumber()) return v.asDouble();
        if (v.isString()) {
            try {
                return Double.parseDouble(v.asString().trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    static int integer(ObjectNode w, String field, int dflt) {
        JsonNode v = w.get(field);
        if (ComfyGraph.isLink(v)) return dflt;
        Double d = number(v);
        return d == null ? dflt : (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, d));
    }

    private static long seedOf(byte[] bytes) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(bytes);
            long s = 0;
            for (int i = 0; i < 6; i++) s = (s << 8) | (h[i] & 0xff);
            return s;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- video

    /**
     * Encodes a sandbox video. The one place video encoding happens, so that another encoder
     * (MP4/WebM) can take over by changing this method alone. For now every format is an
     * animated GIF (javax.imageio): the frames scroll the prompt- and seed-dependent pattern of
     * {@link SandboxRenderer} across the picture, one step per frame, looping forever.
     *
     * @param format what the graph asked for ({@code video/h264-mp4}, {@code video/webm}, {@code image/gif}...)
     */
    public static Video renderVideo(String format, int width, int height, int frames, double fps, String prompt, long seed) {
        if (width < 1 || height < 1 || width > SandboxRenderer.MAX_SIDE || height > SandboxRenderer.MAX_SIDE) {
            throw new IllegalArgumentException("video sides must be 1.." + SandboxRenderer.MAX_SIDE + ", not " + width + "x" + height);
        }
        if (frames < 1 || frames > 10_000) throw new IllegalArgumentException("frames must be 1..10000, not " + frames);
        String f = format == null ? "" : format.toLowerCase(java.util.Locale.ROOT);
        // VHS_VideoCombine names formats like video/h264-mp4, video/nvenc_h264-mp4, video/webm,
        // video/vp9-webm; anything else (animated WEBP/PNG, ProRes...) comes out as an animated
        // GIF, whose MIME type and extension tell the truth.
        String kind = f.contains("mp4") || f.contains("h264") || f.contains("h265") ? "mp4"
                : f.contains("webm") || f.contains("vp8") || f.contains("vp9") || f.contains("av1") ? "webm" : null;
        if (kind != null && width <= SandboxVideoRenderer.MAX_SIDE && height <= SandboxVideoRenderer.MAX_SIDE
                && frames <= SandboxVideoRenderer.MAX_FRAMES) {
            int rate = (int) Math.max(1, Math.min(120, Math.round(fps)));
            byte[] bytes = SandboxVideoRenderer.render(kind, Math.max(2, width), Math.max(2, height), frames, rate, prompt, seed);
            return new Video(bytes, SandboxVideoRenderer.mimeType(kind), kind);
        }
        return new Video(GifFrames.encode(prompt, seed, width, height, frames, fps), "image/gif", "gif");
    }

    static BufferedImage decode(byte[] png) {
        try {
            return ImageIO.read(new ByteArrayInputStream(png));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

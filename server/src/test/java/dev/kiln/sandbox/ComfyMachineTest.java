package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.catalog.Binding;
import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.catalog.Templates;
import dev.kiln.emulator.comfy.ComfyGraph;
import dev.kiln.emulator.comfy.ComfyInventory;
import dev.kiln.emulator.comfy.ComfyMachine;
import dev.kiln.support.Json;
import dev.kiln.testing.TestCatalog;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** The graph machine on the real catalogue's workflow files, and ComfyUI's validation rules. */
class ComfyMachineTest {
    static final Catalog CATALOG = TestCatalog.shipped();

    /** A ComfyUI's folders in memory, numbering outputs as ComfyUI does. */
    static final class Folders implements ComfyMachine.Storage {
        final Map<String, byte[]> inputs = new ConcurrentHashMap<>();
        final Map<String, byte[]> files = new LinkedHashMap<>();

        @Override
        public byte[] input(String name) {
            return inputs.get(name);
        }

        @Override
        public synchronized String save(String type, String subfolder, String prefix, String suffix, byte[] bytes) {
            for (int i = 1; ; i++) {
                String name = prefix + "_" + String.format("%05d", i) + suffix;
                String key = type + "/" + subfolder + "/" + name;
                if (!files.containsKey(key)) {
                    files.put(key, bytes);
                    return name;
                }
            }
        }

        byte[] file(JsonNode entry) {
            return files.get(entry.get("type").asString() + "/" + entry.get("subfolder").asString() + "/" + entry.get("filename").asString());
        }
    }

    static byte[] png(int w, int h) {
        try {
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, (x * 7 + y * 3) << 8);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The workflow Kiln would send for this model and mode on this provider, with image inputs named after their input. */
    static JsonNode workflow(String modelId, String mode, String provider, Map<String, Object> params) {
        Model m = CATALOG.find(modelId).orElseThrow();
        Binding b = m.bindings().stream().filter(x -> x.provider().equals(provider)).findFirst().orElseThrow();
        Map<String, Object> values = new LinkedHashMap<>();
        for (ParamSpec p : m.params()) if (p.appliesTo(mode)) values.put(p.name(), p.defaultValue());
        values.putAll(params);
        values.put("prompt", "a lighthouse at dusk");
        values.put("negative_prompt", null);
        values.put("mode", mode);
        Map<String, List<String>> images = new LinkedHashMap<>();
        for (String name : List.of("reference_image", "first_frame", "last_frame")) images.put(name, List.of(name + ".png"));
        return Templates.render(b.inputFor(mode), b.values(values), images, n -> JsonNodeFactory.instance.stringNode(n));
    }

    static Map<String, ObjectNode> run(JsonNode workflow, Folders f) {
        return run(workflow, f, ComfyInventory.sandbox());
    }

    static Map<String, ObjectNode> run(JsonNode workflow, Folders f, ComfyInventory inventory) {
        ComfyGraph.Validation v = ComfyGraph.validate(workflow, f.inputs.keySet(), inventory);
        assertThat(v.ok()).as(v.errorBody().toString()).isTrue();
        return ComfyMachine.run(ComfyGraph.of(workflow), v.outputs(), f, new ComfyMachine.Listener() {});
    }

    static Folders withInputs() {
        Folders f = new Folders();
        for (String name : List.of("reference_image", "first_frame", "last_frame")) f.inputs.put(name + ".png", png(96, 64));
        return f;
    }

    static BufferedImage image(byte[] b) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(b));
    }

    static int gifFrames(byte[] gif) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(gif))) {
            ImageReader r = ImageIO.getImageReadersByFormatName("gif").next();
            r.setInput(in);
            return r.getNumImages(true);
        }
    }

    @Test
    void qwenImageRendersAPngOfTheRequestedSize() throws IOException {
        Folders f = withInputs();
        Map<String, ObjectNode> out = run(workflow("qwen-image", "txt2img", "runpod", Map.of("width", 320, "height", 256, "seed", 7)), f);
        assertThat(out).containsOnlyKeys("60");
        JsonNode img = out.get("60").get("images").get(0);
        assertThat(img.get("filename").asString()).isEqualTo("qwen_00001_.png");
        assertThat(img.get("type").asString()).isEqualTo("output");
        BufferedImage b = image(f.file(img));
        assertThat(b.getWidth()).isEqualTo(320);
        assertThat(b.getHeight()).isEqualTo(256);
    }

    @Test
    void ponyImg2imgTakesItsSizeFromTheScaledReferenceAndItsPixelsFromPromptAndSeed() throws IOException {
        Folders f = withInputs();
        JsonNode wf = workflow("pony-v6-xl", "img2img", "comfyui", Map.of("width", 512, "height", 640, "seed", 11));
        assertThat(wf.get("11").get("inputs").get("image").asString()).isEqualTo("reference_image.png");
        Map<String, ObjectNode> out = run(wf, f);
        byte[] first = f.file(out.get("9").get("images").get(0));
        BufferedImage b = image(first);
        assertThat(b.getWidth()).isEqualTo(512);
        assertThat(b.getHeight()).isEqualTo(640);

        Folders again = withInputs();
        byte[] same = again.file(run(wf, again).get("9").get("images").get(0));
        assertThat(same).isEqualTo(first);

        Folders otherSeed = withInputs();
        JsonNode wf2 = workflow("pony-v6-xl", "img2img", "comfyui", Map.of("width", 512, "height", 640, "seed", 12));
        assertThat(otherSeed.file(run(wf2, otherSeed).get("9").get("images").get(0))).isNotEqualTo(first);

        Folders otherPrompt = withInputs();
        ObjectNode wf3 = (ObjectNode) wf.deepCopy();
        ((ObjectNode) wf3.get("6").get("inputs")).put("text", "a different prompt");
        assertThat(otherPrompt.file(run(wf3, otherPrompt).get("9").get("images").get(0))).isNotEqualTo(first);
    }

    @Test
    void wanAndAnisoraVideosHaveOneFramePerRequestedFrame() throws IOException {
        for (String[] c : new String[][] {{"wan-2.2-rapid", "t2v"}, {"wan-2.2-rapid", "i2v"}, {"wan-2.2-rapid", "first_last_frame"},
                {"anisora-v3.2", "t2v"}}) {
            Folders f = withInputs();
            JsonNode wf = workflow(c[0], c[1], "runpod", Map.of("width", 512, "height", 512, "num_frames", 17, "fps", 16, "seed", 3));
            Map<String, ObjectNode> out = run(wf, f);
            JsonNode gif = out.get("60").get("gifs").get(0);
            assertThat(gif.get("format").asString()).as(c[0] + " " + c[1]).isEqualTo("video/h264-mp4");
            byte[] bytes = f.file(gif);
            // The workflows ask VHS for H.264 MP4, and that is what comes out.
            assertThat(gif.get("filename").asString()).endsWith(".mp4");
            assertThat(new String(bytes, 4, 4, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("ftyp");
            try (var ch = new org.jcodec.common.io.ByteBufferSeekableByteChannel(java.nio.ByteBuffer.wrap(bytes), bytes.length)) {
                var track = org.jcodec.containers.mp4.demuxer.MP4Demuxer.createMP4Demuxer(ch).getVideoTrack();
                assertThat(track.getMeta().getTotalFrames()).as(c[0] + " " + c[1]).isEqualTo(17);
                assertThat(track.getMeta().getVideoCodecMeta().getSize().getWidth()).isEqualTo(512);
                assertThat(track.getMeta().getVideoCodecMeta().getSize().getHeight()).isEqualTo(512);
            }
        }
    }

    @Test
    void aGifVideoFormatGivesAnAnimatedGif() throws IOException {
        Folders f = withInputs();
        ObjectNode wf = (ObjectNode) workflow("wan-2.2-rapid", "t2v", "runpod",
                Map.of("width", 256, "height", 256, "num_frames", 17, "fps", 16, "seed", 3)).deepCopy();
        ((ObjectNode) wf.get("60").get("inputs")).put("format", "image/gif");
        byte[] bytes = f.file(run(wf, f).get("60").get("gifs").get(0));
        assertThat(new String(bytes, 0, 6, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("GIF89a");
        assertThat(gifFrames(bytes)).isEqualTo(17);
        assertThat(new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)).contains(dev.kiln.emulator.render.SandboxRenderer.MARKER);
        BufferedImage first = image(bytes);
        assertThat(first.getWidth()).isEqualTo(256);
    }

    @Test
    void fluxNf4RunsOnBothProviders() {
        for (String provider : List.of("runpod", "comfyui")) {
            Folders f = withInputs();
            assertThat(run(workflow("flux-dev-nf4", "img2img", provider, Map.of("seed", 1)), f)).containsOnlyKeys("9");
        }
    }

    // ---- validation, as ComfyUI answers it

    static ObjectNode pony() {
        return (ObjectNode) workflow("pony-v6-xl", "txt2img", "comfyui", Map.of("seed", 5));
    }

    @Test
    void aMissingRequiredInputIsANodeErrorNamingNodeClassAndInput() {
        ObjectNode wf = pony();
        ((ObjectNode) wf.get("3").get("inputs")).remove("model");
        ComfyGraph.Validation v = ComfyGraph.validate(wf, List.of());
        assertThat(v.ok()).isFalse();
        assertThat(v.error().get("type").asString()).isEqualTo("prompt_outputs_failed_validation");
        JsonNode ne = v.nodeErrors().get("3");
        assertThat(ne.get("class_type").asString()).isEqualTo("KSampler");
        assertThat(ne.get("errors").get(0).get("type").asString()).isEqualTo("required_input_missing");
        assertThat(ne.get("errors").get(0).get("details").asString()).isEqualTo("model");
        assertThat(ne.get("dependent_outputs").get(0).asString()).isEqualTo("9");
    }

    @Test
    void aLinkToAMissingNodeOrOfTheWrongTypeIsRefused() {
        ObjectNode wf = pony();
        ((ObjectNode) wf.get("8").get("inputs")).set("vae", Json.parse("[\"99\", 0]"));
        ComfyGraph.Validation v = ComfyGraph.validate(wf, List.of());
        assertThat(v.nodeErrors().get("8").get("errors").get(0).get("type").asString()).isEqualTo("bad_linked_input");
        assertThat(v.nodeErrors().get("8").get("errors").get(0).get("details").asString()).contains("99");

        ObjectNode wf2 = pony();
        ((ObjectNode) wf2.get("8").get("inputs")).set("vae", Json.parse("[\"4\", 0]"));
        JsonNode e = ComfyGraph.validate(wf2, List.of()).nodeErrors().get("8").get("errors").get(0);
        assertThat(e.get("type").asString()).isEqualTo("return_type_mismatch");
        assertThat(e.get("details").asString()).contains("MODEL").contains("VAE");
    }

    @Test
    void outOfRangeValuesAndMissingUploadsAreRefused() {
        ObjectNode wf = pony();
        ((ObjectNode) wf.get("3").get("inputs")).put("steps", 0);
        assertThat(ComfyGraph.validate(wf, List.of()).nodeErrors().get("3").get("errors").get(0).get("type").asString())
                .isEqualTo("value_smaller_than_min");
        JsonNode img = workflow("pony-v6-xl", "img2img", "comfyui", Map.of("seed", 5));
        ComfyGraph.Validation v = ComfyGraph.validate(img, List.of("other.png"));
        // LoadImage checks its file in its own VALIDATE_INPUTS (nodes.py), not against the combo list.
        assertThat(v.nodeErrors().get("11").get("errors").get(0).get("type").asString()).isEqualTo("custom_validation_failed");
        assertThat(v.nodeErrors().get("11").get("errors").get(0).get("details").asString())
                .isEqualTo("image - Invalid image file: reference_image.png");
    }

    @Test
    void promptsWithoutOutputsOrClassTypesAreRefused() {
        ObjectNode wf = pony();
        wf.remove("9");
        assertThat(ComfyGraph.validate(wf, List.of()).error().get("type").asString()).isEqualTo("prompt_no_outputs");
        ObjectNode wf2 = pony();
        ((ObjectNode) wf2.get("5")).remove("class_type");
        assertThat(ComfyGraph.validate(wf2, List.of()).error().get("type").asString()).isEqualTo("missing_node_type");
    }

    @Test
    void installedCustomNodesAreAcceptedAndPassTheirInputsThrough() throws IOException {
        ObjectNode wf = pony();
        // A custom upscaler between the decoder and the saver, and a custom saver of its own.
        wf.set("20", Json.parse("{\"class_type\":\"MyFancyUpscaler\",\"inputs\":{\"image\":[\"8\",0],\"strength\":0.5}}"));
        ((ObjectNode) wf.get("9").get("inputs")).set("images", Json.parse("[\"20\", 0]"));
        wf.set("21", Json.parse("{\"class_type\":\"Image Save (WAS)\",\"inputs\":{\"images\":[\"20\",0],\"filename_prefix\":\"was\"}}"));
        ((ObjectNode) wf.get("5").get("inputs")).put("width", 576);
        Folders f = new Folders();
        assertThat(ComfyGraph.validate(wf, List.of()).error().get("type").asString()).isEqualTo("missing_node_type");
        Map<String, ObjectNode> out = run(wf, f, ComfyInventory.sandbox().withCustomNodes("MyFancyUpscaler", "Image Save (WAS)"));
        assertThat(out).containsOnlyKeys("9", "21");
        assertThat(image(f.file(out.get("21").get("images").get(0))).getWidth()).isEqualTo(576);
        assertThat(out.get("21").get("images").get(0).get("filename").asString()).startsWith("was_");
    }

    @Test
    void aNodeErrorDuringTheRunNamesTheNode() {
        ObjectNode wf = (ObjectNode) workflow("pony-v6-xl", "img2img", "comfyui", Map.of("seed", 5));
        Folders f = withInputs();
        f.inputs.put("reference_image.png", "not an image".getBytes());
        assertThatThrownBy(() -> run(wf, f)).isInstanceOfSatisfying(ComfyMachine.ExecutionError.class, e -> {
            assertThat(e.nodeId()).isEqualTo("11");
            assertThat(e.nodeType()).isEqualTo("LoadImage");
            assertThat(e.getMessage()).contains("cannot identify image file");
        });
    }

    @Test
    void progressIsReportedForEverySamplerStep() {
        List<String> events = new ArrayList<>();
        ObjectNode wf = pony();
        ((ObjectNode) wf.get("3").get("inputs")).put("steps", 5);
        ComfyGraph.Validation v = ComfyGraph.validate(wf, List.of());
        ComfyMachine.run(ComfyGraph.of(wf), v.outputs(), new Folders(), new ComfyMachine.Listener() {
            @Override
            public void executing(String nodeId, String classType) {
                events.add("executing " + nodeId);
            }

            @Override
            public void progress(String nodeId, int value, int max) {
                events.add("progress " + value + "/" + max);
            }
        });
        assertThat(events).containsSubsequence("executing 3", "progress 1/5", "progress 5/5", "executing 8", "executing 9");
        assertThat(ComfyMachine.totalSteps(ComfyGraph.of(wf))).isEqualTo(5);
    }
}

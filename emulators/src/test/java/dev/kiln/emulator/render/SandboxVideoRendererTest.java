package dev.kiln.emulator.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.jcodec.api.FrameGrab;
import org.jcodec.common.io.ByteBufferSeekableByteChannel;
import org.jcodec.common.model.Picture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SandboxVideoRendererTest {

    @ParameterizedTest
    @ValueSource(strings = {"mp4", "webm", "gif"})
    void sameInputsGiveIdenticalBytesAndOtherSeedsOrPromptsDoNot(String format) {
        byte[] a = SandboxVideoRenderer.render(format, 64, 48, 8, 8, "a fox", 42);
        assertThat(SandboxVideoRenderer.render(format, 64, 48, 8, 8, "a fox", 42)).isEqualTo(a);
        assertThat(SandboxVideoRenderer.render(format, 64, 48, 8, 8, "a fox", 43)).isNotEqualTo(a);
        assertThat(SandboxVideoRenderer.render(format, 64, 48, 8, 8, "a wolf", 42)).isNotEqualTo(a);
    }

    @Test
    void mp4HasEveryFrameAndTheyMove() throws Exception {
        byte[] mp4 = SandboxVideoRenderer.render("mp4", 96, 64, 12, 24, "harbour", 5);
        assertThat(new String(mp4, 4, 4, StandardCharsets.US_ASCII)).isEqualTo("ftyp");
        FrameGrab grab = FrameGrab.createFrameGrab(ByteBufferSeekableByteChannel.readFromByteBuffer(ByteBuffer.wrap(mp4)));
        assertThat(grab.getVideoTrack().getMeta().getTotalFrames()).isEqualTo(12);
        assertThat(grab.getVideoTrack().getMeta().getTotalDuration()).isEqualTo(0.5);
        List<byte[]> luma = new ArrayList<>();
        Picture first = null;
        for (Picture p; (p = grab.getNativeFrame()) != null; ) {
            if (first == null) first = p;
            luma.add(p.getPlaneData(0).clone()); // the decoder reuses its buffers
        }
        assertThat(luma).hasSize(12);
        assertThat(first.getCroppedWidth()).isEqualTo(96);
        assertThat(first.getCroppedHeight()).isEqualTo(64);
        // Frame 6 is half-way round the loop: most of the picture has changed.
        assertThat(differing(luma.get(0), luma.get(6), 12)).isGreaterThan(0.3);
    }

    /** The container's creation times would differ from one second to the next; the bytes must not. */
    @ParameterizedTest
    @ValueSource(strings = {"mp4", "webm", "gif"})
    void theSameInputGivesTheSameBytesLater(String format) throws Exception {
        byte[] first = SandboxVideoRenderer.render(format, 64, 48, 6, 8, "again", 3);
        Thread.sleep(1_100);
        assertThat(SandboxVideoRenderer.render(format, 64, 48, 6, 8, "again", 3)).isEqualTo(first);
    }

    @Test
    void gifHasEveryFrameWithDelaysAddingUpToTheDuration() throws IOException {
        byte[] gif = SandboxVideoRenderer.render("gif", 40, 30, 24, 24, "lanterns", 9);
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(gif))) {
            ImageReader r = ImageIO.getImageReadersByFormatName("gif").next();
            r.setInput(in);
            assertThat(r.getNumImages(true)).isEqualTo(24);
            int total = 0;
            for (int i = 0; i < 24; i++) {
                var gce = ((javax.imageio.metadata.IIOMetadataNode) r.getImageMetadata(i).getAsTree("javax_imageio_gif_image_1.0"))
                        .getElementsByTagName("GraphicControlExtension").item(0);
                total += Integer.parseInt(gce.getAttributes().getNamedItem("delayTime").getNodeValue());
            }
            assertThat(total).isEqualTo(100); // 24 frames at 24 fps: one second
            BufferedImage first = r.read(0);
            BufferedImage middle = r.read(12);
            assertThat(first.getWidth()).isEqualTo(40);
            int changed = 0;
            for (int y = 0; y < 30; y++) for (int x = 0; x < 40; x++) if (first.getRGB(x, y) != middle.getRGB(x, y)) changed++;
            assertThat(changed).isGreaterThan(40 * 30 / 3);
        }
        assertThat(new String(gif, StandardCharsets.ISO_8859_1)).contains("NETSCAPE2.0").contains("kiln-sandbox seed=9");
    }

    @Test
    void gifFirstFrameIsTheStillImageExactly() throws IOException {
        // The still renderer and frame 0 draw the same scene; GIF is lossless.
        BufferedImage still = ImageIO.read(new ByteArrayInputStream(SandboxRenderer.render("bay", 3, 50, 20, "png")));
        BufferedImage first = ImageIO.read(new ByteArrayInputStream(SandboxVideoRenderer.render("gif", 50, 20, 4, 8, "bay", 3)));
        for (int y = 0; y < 20; y++) for (int x = 0; x < 50; x++) assertThat(first.getRGB(x, y)).isEqualTo(still.getRGB(x, y));
    }

    @Test
    void webmIsAnEbmlFileWithAVp8Track() {
        byte[] webm = SandboxVideoRenderer.render("webm", 64, 64, 10, 16, "forest", 1);
        assertThat(webm[0] & 0xff).isEqualTo(0x1A);
        assertThat(webm[1] & 0xff).isEqualTo(0x45);
        String s = new String(webm, StandardCharsets.ISO_8859_1);
        assertThat(s).contains("webm").contains("V_VP8");
        // Every frame of a VP8 key frame carries the start code 9d 01 2a.
        int keyFrames = 0;
        for (int i = 0; i + 2 < webm.length; i++) {
            if ((webm[i] & 0xff) == 0x9d && webm[i + 1] == 0x01 && webm[i + 2] == 0x2a) keyFrames++;
        }
        assertThat(keyFrames).isEqualTo(10);
    }

    @Test
    void oddSidesAreRoundedUpToEvenForTheVideoCodecs() throws Exception {
        byte[] mp4 = SandboxVideoRenderer.render("mp4", 65, 33, 2, 8, "odd", 1);
        Picture p = FrameGrab.createFrameGrab(ByteBufferSeekableByteChannel.readFromByteBuffer(ByteBuffer.wrap(mp4))).getNativeFrame();
        assertThat(p.getCroppedWidth()).isEqualTo(66);
        assertThat(p.getCroppedHeight()).isEqualTo(34);
        assertThat(ImageIO.read(new ByteArrayInputStream(SandboxVideoRenderer.render("gif", 65, 33, 2, 8, "odd", 1))).getWidth()).isEqualTo(65);
    }

    @Test
    void refusesWhatItCannotRender() {
        assertThatThrownBy(() -> SandboxVideoRenderer.render("avi", 64, 64, 8, 8, "x", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SandboxVideoRenderer.render("mp4", 64, 64, 0, 8, "x", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SandboxVideoRenderer.render("mp4", 64, 64, 8, 0, "x", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SandboxVideoRenderer.render("mp4", 1, 64, 8, 8, "x", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(SandboxVideoRenderer.mimeType("GIF")).isEqualTo("image/gif");
        assertThat(SandboxVideoRenderer.mimeType("webm")).isEqualTo("video/webm");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mp4", "webm", "gif"})
    void aSmallClipRendersInWellUnderASecond(String format) {
        for (int i = 0; i < 3; i++) SandboxVideoRenderer.render(format, 256, 256, 16, 16, "warm-up", i);
        long t = System.nanoTime();
        SandboxVideoRenderer.render(format, 256, 256, 16, 16, "timed", 7);
        long ms = (System.nanoTime() - t) / 1_000_000;
        // Goal < 1 s on a quiet machine; 3 s leaves room for a busy shared CI box.
        assertThat(ms).as(format + " took " + ms + " ms").isLessThan(3000);
    }

    /** An independent decoder's view, where ffprobe is installed (developer machines; skipped elsewhere). */
    @ParameterizedTest
    @ValueSource(strings = {"mp4", "webm", "gif"})
    void ffprobeReadsFramesRateAndDuration(String format, @TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/ffprobe")), "ffprobe not installed");
        Path f = dir.resolve("clip." + format);
        Files.write(f, SandboxVideoRenderer.render(format, 128, 96, 32, 16, "ffprobe", 11));
        Process p = new ProcessBuilder("/usr/bin/ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                "-show_entries", "stream=width,height,nb_read_frames,r_frame_rate:format=duration", "-of", "default=nw=1", f.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("width=128", "height=96", "nb_read_frames=32", "r_frame_rate=16/1", "duration=2.0");
    }

    private static double differing(byte[] a, byte[] b, int tolerance) {
        int n = 0;
        for (int i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > tolerance) n++;
        return (double) n / a.length;
    }
}

package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.emulator.render.SandboxVideoRenderer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VideoProbeTest {
    @TempDir Path dir;

    @ParameterizedTest
    @CsvSource({"mp4,video/mp4,16", "webm,video/webm,16", "gif,image/gif,16", "mp4,video/mp4,24", "webm,video/webm,8", "gif,image/gif,8"})
    void readsSizeFramesRateAndDuration(String format, String mime, int fps) throws IOException {
        Path f = write(SandboxVideoRenderer.render(format, 96, 64, 40, fps, "probe", 3));
        assertThat(MediaProbe.sniff(f)).isEqualTo(mime);
        VideoProbe.Facts v = VideoProbe.facts(f, mime);
        assertThat(v.width()).isEqualTo(96);
        assertThat(v.height()).isEqualTo(64);
        assertThat(v.frames()).isEqualTo(40);
        long expectedMs = Math.round(40 * 1000.0 / fps);
        // GIF delays are whole 1/100 s.
        assertThat(v.durationMs()).isBetween(expectedMs - 10, expectedMs + 10);
        assertThat(v.fps()).isCloseTo(fps, org.assertj.core.data.Offset.offset(fps * 0.02));
    }

    @Test
    void theMp4PosterIsTheFirstFrame() throws IOException {
        Path f = write(SandboxVideoRenderer.render("mp4", 128, 96, 8, 16, "poster", 21));
        BufferedImage poster = VideoProbe.poster(f, MediaProbe.sniff(f));
        assertThat(poster).isNotNull();
        assertThat(poster.getWidth()).isEqualTo(128);
        assertThat(poster.getHeight()).isEqualTo(96);
        // Frame 0 is the still image of the same prompt and seed; the codecs are lossy, so compare
        // the mean colour difference, and check another seed is far off.
        BufferedImage still = ImageIO.read(new ByteArrayInputStream(SandboxRenderer.render("poster", 21, 128, 96, "png")));
        BufferedImage other = ImageIO.read(new ByteArrayInputStream(SandboxRenderer.render("poster", 22, 128, 96, "png")));
        assertThat(meanDifference(poster, still)).isLessThan(12);
        assertThat(meanDifference(poster, other)).isGreaterThan(30);
    }

    @Test
    void webmFramesFromJcodecsEncoderGiveNoPoster() throws IOException {
        // jcodec's VP8 decoder refuses its own encoder's frames; the file still has its facts.
        Path f = write(SandboxVideoRenderer.render("webm", 64, 64, 4, 8, "no poster", 1));
        assertThat(VideoProbe.poster(f, "video/webm")).isNull();
        assertThat(VideoProbe.facts(f, "video/webm").frames()).isEqualTo(4);
    }

    @Test
    void damagedOrForeignFilesAreUnknownNotErrors() throws IOException {
        byte[] mp4 = SandboxVideoRenderer.render("mp4", 64, 64, 8, 8, "cut", 1);
        byte[] webm = SandboxVideoRenderer.render("webm", 64, 64, 8, 8, "cut", 1);
        Path cutMp4 = write(Arrays.copyOf(mp4, mp4.length / 3));
        assertThat(VideoProbe.poster(cutMp4, "video/mp4")).isNull();
        assertThat(VideoProbe.facts(write(TestImages.isoMedia("isom")), "video/mp4")).isEqualTo(VideoProbe.Facts.UNKNOWN);
        assertThat(VideoProbe.facts(write(TestImages.ebml("webm")), "video/webm").frames()).isNull();
        // A WebM cut in the middle still tells what it has: its header facts and the frames so far.
        VideoProbe.Facts cut = VideoProbe.facts(write(Arrays.copyOf(webm, webm.length / 2)), "video/webm");
        assertThat(cut.width()).isEqualTo(64);
        assertThat(cut.frames()).isBetween(1, 7);
        byte[] noise = new byte[5000];
        new java.util.Random(1).nextBytes(noise);
        noise[0] = 0x1A; noise[1] = 0x45; noise[2] = (byte) 0xDF; noise[3] = (byte) 0xA3;
        assertThat(VideoProbe.facts(write(noise), "video/webm").frames()).isNull();
        assertThat(VideoProbe.poster(write(noise), "video/webm")).isNull();
    }

    @Test
    void aStillGifHasNoVideoFactsInItsProbe() throws IOException {
        Path still = write(TestImages.gif(33, 17));
        assertThat(new MediaProbe().probe(still, "image/gif")).isEqualTo(new MediaProbe.Probe("image/gif", 33, 17, null, null, null));
        Path animated = write(SandboxVideoRenderer.render("gif", 33, 17, 10, 10, "anim", 1));
        assertThat(new MediaProbe().probe(animated, "image/gif")).isEqualTo(new MediaProbe.Probe("image/gif", 33, 17, 10, 10.0, 1000L));
    }

    private Path write(byte[] bytes) throws IOException {
        Path f = Files.createTempFile(dir, "v", ".bin");
        Files.write(f, bytes);
        return f;
    }

    /** Over the top half: a still carries a caption band at its bottom, which video frames do not. */
    private static double meanDifference(BufferedImage a, BufferedImage b) {
        long sum = 0;
        int rows = a.getHeight() / 2;
        for (int y = 0; y < rows; y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y), q = b.getRGB(x, y);
                for (int s = 0; s < 24; s += 8) sum += Math.abs(((p >> s) & 255) - ((q >> s) & 255));
            }
        }
        return (double) sum / (a.getWidth() * rows * 3);
    }
}

package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MediaProbeTest {
    @TempDir Path dir;
    private final MediaProbe probe = new MediaProbe();

    private Path file(byte[] bytes) throws IOException {
        return Files.write(Files.createTempFile(dir, "m", ".bin"), bytes);
    }

    private MediaProbe.Probe probe(byte[] bytes) throws IOException {
        Path f = file(bytes);
        return probe.probe(f, MediaProbe.sniff(f));
    }

    @Test
    void recognisesImagesByTheirBytesAndReadsTheirSize() throws IOException {
        assertThat(probe(TestImages.png(640, 480))).isEqualTo(new MediaProbe.Probe("image/png", 640, 480, null, null, null));
        assertThat(probe(TestImages.jpeg(300, 200))).isEqualTo(new MediaProbe.Probe("image/jpeg", 300, 200, null, null, null));
        assertThat(probe(TestImages.gif(33, 17))).isEqualTo(new MediaProbe.Probe("image/gif", 33, 17, null, null, null));
        assertThat(probe(TestImages.webpLossless(320, 160))).isEqualTo(new MediaProbe.Probe("image/webp", 320, 160, null, null, null));
        assertThat(probe(TestImages.WEBP_LOSSY_1X1)).isEqualTo(new MediaProbe.Probe("image/webp", 1, 1, null, null, null));
    }

    @Test
    void recognisesVideosAndLeavesTheirDetailsEmpty() throws IOException {
        assertThat(probe(TestImages.isoMedia("isom"))).isEqualTo(new MediaProbe.Probe("video/mp4", null, null, null, null, null));
        assertThat(probe(TestImages.isoMedia("qt  ")).mime()).isEqualTo("video/quicktime");
        assertThat(probe(TestImages.ebml("webm")).mime()).isEqualTo("video/webm");
        assertThat(probe(TestImages.ebml("matroska")).mime()).isEqualTo("video/x-matroska");
        assertThat(probe(TestImages.isoMedia("avif")).mime()).isEqualTo("image/avif");
    }

    @Test
    void unknownBytesHaveNoType() throws IOException {
        assertThat(MediaProbe.sniff(file("just text, named .png".getBytes(StandardCharsets.UTF_8)))).isNull();
        assertThat(MediaProbe.sniff(file(new byte[0]))).isNull();
        assertThat(MediaProbe.sniff(file(new byte[] {(byte) 0x89, 'P', 'N'}))).isNull();
        assertThat(MediaProbe.sniff(file(TestImages.isoMedia("M4A ")))).isNull();
    }

    @Test
    void decodesWebpLosslessPixelsExactly() throws IOException {
        Path f = file(TestImages.webpLossless(32, 16));
        BufferedImage img = probe.decode(f, probe.probe(f, "image/webp"));
        assertThat(img.getWidth()).isEqualTo(32);
        assertThat(img.getRGB(0, 0) & 0xFFFFFF).isEqualTo(TestImages.WEBP_RGB_A);
        assertThat(img.getRGB(8, 0) & 0xFFFFFF).isEqualTo(TestImages.WEBP_RGB_B);
        assertThat(img.getRGB(8, 8) & 0xFFFFFF).isEqualTo(TestImages.WEBP_RGB_A);
    }

    @Test
    void decodesLossyWebp() throws IOException {
        Path f = file(TestImages.WEBP_LOSSY_1X1);
        BufferedImage img = probe.decode(f, probe.probe(f, "image/webp"));
        assertThat(img.getWidth()).isEqualTo(1);
        assertThat(img.getHeight()).isEqualTo(1);
    }

    @Test
    void truncatedPngDoesNotDecode() throws IOException {
        byte[] png = TestImages.png(400, 400);
        Path f = file(Arrays.copyOf(png, png.length / 2));
        MediaProbe.Probe p = probe.probe(f, "image/png");
        assertThat(p.width()).isEqualTo(400);
        assertThatThrownBy(() -> probe.decode(f, p)).isInstanceOf(MediaException.class)
                .hasMessage("could not be decoded as a PNG image (damaged or truncated)");
    }

    @Test
    void truncatedJpegDoesNotDecode() throws IOException {
        byte[] jpeg = TestImages.jpeg(400, 400);
        Path f = file(Arrays.copyOf(jpeg, jpeg.length / 2));
        MediaProbe.Probe p = probe.probe(f, "image/jpeg");
        assertThatThrownBy(() -> probe.decode(f, p)).isInstanceOf(MediaException.class)
                .hasMessage("could not be decoded as a JPEG image (damaged or truncated)");
    }

    @Test
    void truncatedWebpDoesNotDecode() throws IOException {
        byte[] webp = TestImages.webpLossless(64, 64);
        Path f = file(Arrays.copyOf(webp, webp.length - 200));
        assertThatThrownBy(() -> probe.decode(f, probe.probe(f, "image/webp"))).isInstanceOf(MediaException.class)
                .hasMessage("could not be decoded as a WebP image (damaged or truncated)");
    }

    @Test
    void truncatedGifDoesNotDecode() throws IOException {
        byte[] gif = TestImages.encode(TestImages.gradient(300, 300, false), "gif");
        Path f = file(Arrays.copyOf(gif, gif.length / 2));
        assertThatThrownBy(() -> probe.decode(f, probe.probe(f, "image/gif"))).isInstanceOf(MediaException.class)
                .hasMessage("could not be decoded as a GIF image (damaged or truncated)");
    }

    @Test
    void headerCutShortIsRefusedAsUnreadable() throws IOException {
        byte[] png = TestImages.png(50, 50);
        Path f = file(Arrays.copyOf(png, 12));
        assertThat(MediaProbe.sniff(f)).isEqualTo("image/png");
        assertThatThrownBy(() -> probe.probe(f, "image/png")).isInstanceOf(MediaException.class)
                .hasMessage("is not a readable PNG image");
    }

    @Test
    void hugeImageIsRefusedFromItsHeaderWithoutDecoding() throws IOException {
        Path f = file(TestImages.pngHeaderOnly(10_000, 10_000));
        MediaProbe.Probe p = probe.probe(f, MediaProbe.sniff(f));
        assertThat(p.width()).isEqualTo(10_000);
        // The pixel data is junk: reaching the decoder would fail with "could not be decoded".
        assertThatThrownBy(() -> probe.decode(f, p)).isInstanceOf(MediaException.class)
                .hasMessage("is 10000×10000 pixels (100 megapixels), more than the limit of 50 megapixels");
        // Within the limit, the same junk does reach the decoder, and fails there.
        Path small = file(TestImages.pngHeaderOnly(5_000, 5_000));
        assertThatThrownBy(() -> probe.decode(small, probe.probe(small, "image/png"))).isInstanceOf(MediaException.class)
                .hasMessageStartingWith("could not be decoded");
    }

    @Test
    void largeImagesAreDecodedSubsampled() throws IOException {
        Path f = file(TestImages.png(5000, 1000));
        BufferedImage img = probe.decode(f, probe.probe(f, "image/png"));
        assertThat(img.getWidth()).isBetween(MediaProbe.DECODE_LONGEST, 2 * MediaProbe.DECODE_LONGEST);
        assertThat((double) img.getWidth() / img.getHeight()).isCloseTo(5.0, org.assertj.core.data.Offset.offset(0.05));
    }
}

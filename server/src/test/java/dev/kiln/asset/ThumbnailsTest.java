package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThumbnailsTest {
    @TempDir Path dir;
    private final MediaProbe probe = new MediaProbe();

    private Thumbnails.Thumbnail thumbnailOf(byte[] bytes) throws IOException {
        Path f = Files.write(dir.resolve("img"), bytes);
        MediaProbe.Probe p = probe.probe(f, MediaProbe.sniff(f));
        return Thumbnails.render(probe.decode(f, p), p.width(), p.height());
    }

    private static BufferedImage read(Thumbnails.Thumbnail t) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(t.bytes()));
    }

    @Test
    void longestSideBecomes256AndAspectIsKept() throws IOException {
        Thumbnails.Thumbnail t = thumbnailOf(TestImages.png(1000, 500));
        assertThat(t.mime()).isEqualTo("image/jpeg");
        BufferedImage img = read(t);
        assertThat(img.getWidth()).isEqualTo(256);
        assertThat(img.getHeight()).isEqualTo(128);

        Thumbnails.Thumbnail tall = thumbnailOf(TestImages.jpeg(300, 900));
        assertThat(read(tall).getWidth()).isEqualTo(85);
        assertThat(read(tall).getHeight()).isEqualTo(256);
    }

    @Test
    void transparencyIsKeptAsPng() throws IOException {
        Thumbnails.Thumbnail t = thumbnailOf(TestImages.pngWithAlpha(600, 600));
        assertThat(t.mime()).isEqualTo("image/png");
        BufferedImage img = read(t);
        assertThat(img.getColorModel().hasAlpha()).isTrue();
        assertThat(img.getRGB(0, 0) >>> 24).isLessThan(255);
    }

    @Test
    void webpGetsAThumbnail() throws IOException {
        Thumbnails.Thumbnail t = thumbnailOf(TestImages.webpLossless(512, 256));
        BufferedImage img = read(t);
        assertThat(img.getWidth()).isEqualTo(256);
        assertThat(img.getHeight()).isEqualTo(128);
    }

    @Test
    void downscaleAveragesInsteadOfPickingPixels() throws IOException {
        // Nearest-neighbour sampling of a one-pixel checkerboard gives pure black or white.
        BufferedImage img = read(thumbnailOf(TestImages.checkerboardPng(1024, 1024)));
        int min = 255;
        int max = 0;
        for (int y = 16; y < 240; y += 8) {
            for (int x = 16; x < 240; x += 8) {
                int g = (img.getRGB(x, y) >> 8) & 0xFF;
                min = Math.min(min, g);
                max = Math.max(max, g);
            }
        }
        assertThat(min).isGreaterThan(100);
        assertThat(max).isLessThan(156);
    }

    @Test
    void smallImagesFitAsTheyAre() {
        assertThat(Thumbnails.fits(256, 256)).isTrue();
        assertThat(Thumbnails.fits(257, 10)).isFalse();
        assertThat(Thumbnails.targetSize(3000, 10)).containsExactly(256, 1);
    }
}

package dev.kiln.emulator.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SandboxRendererTest {

    @ParameterizedTest
    @ValueSource(strings = {"png", "jpeg", "webp"})
    void sameInputsGiveIdenticalBytes(String format) {
        byte[] a = SandboxRenderer.render("a red fox in snow", 42, 96, 64, format);
        byte[] b = SandboxRenderer.render("a red fox in snow", 42, 96, 64, format);
        assertThat(a).isEqualTo(b);
    }

    @ParameterizedTest
    @ValueSource(strings = {"png", "jpeg", "jpg", "webp", "PNG"})
    void decodesWithImageIoAtTheRequestedSize(String format) throws IOException {
        BufferedImage img = decode(SandboxRenderer.render("lighthouse", 7, 120, 80, format));
        assertThat(img).as("ImageIO reader for " + format).isNotNull();
        assertThat(img.getWidth()).isEqualTo(120);
        assertThat(img.getHeight()).isEqualTo(80);
    }

    @ParameterizedTest
    @CsvSource({"1,1", "2,3", "7,1", "1,9", "64,64", "517,3", "3,600", "600,520", "1100,5"})
    void losslessWebpDecodesToExactlyThePngPixels(int w, int h) throws IOException {
        // Both formats are lossless, so the WebP encoder is right exactly when the pixels agree.
        int[] png = pixels(decode(SandboxRenderer.render("edge sizes", w * 31L + h, w, h, "png")));
        int[] webp = pixels(decode(SandboxRenderer.render("edge sizes", w * 31L + h, w, h, "webp")));
        assertThat(webp).isEqualTo(png);
    }

    @Test
    void pixelsDependOnTheSeedAndOnThePrompt() throws IOException {
        int[] base = pixels(decode(SandboxRenderer.render("a cat", 1, 128, 128, "png")));
        int[] otherSeed = pixels(decode(SandboxRenderer.render("a cat", 2, 128, 128, "png")));
        int[] otherPrompt = pixels(decode(SandboxRenderer.render("a dog", 1, 128, 128, "png")));
        assertThat(differing(base, otherSeed)).isGreaterThan(0.5);
        assertThat(differing(base, otherPrompt)).isGreaterThan(0.5);
    }

    @Test
    void imagesAreColourfulNotFlat() throws IOException {
        int[] px = pixels(decode(SandboxRenderer.render("sunset", 99, 128, 128, "png")));
        Set<Integer> colours = new HashSet<>();
        for (int c : px) colours.add(c & 0xffffff);
        assertThat(colours.size()).isGreaterThan(100);
    }

    @Test
    void metadataNamesTheSandboxPromptAndSeed() {
        String png = new String(SandboxRenderer.render("neon city", 1234, 32, 32, "png"), StandardCharsets.ISO_8859_1);
        assertThat(png).contains("iTXt" + SandboxRenderer.MARKER).contains("seed=1234").contains("prompt=neon city");
        byte[] jpeg = SandboxRenderer.render("neon city", 1234, 32, 32, "jpeg");
        assertThat(jpeg[2] & 0xff).isEqualTo(0xff);
        assertThat(jpeg[3] & 0xff).isEqualTo(0xfe);
        assertThat(new String(jpeg, StandardCharsets.ISO_8859_1)).contains(SandboxRenderer.MARKER).contains("seed=1234");
    }

    @Test
    void rejectsUnknownFormatsAndSizes() {
        assertThatThrownBy(() -> SandboxRenderer.render("x", 1, 8, 8, "gif")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SandboxRenderer.render("x", 1, 0, 8, "png")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SandboxRenderer.render("x", 1, 8, SandboxRenderer.MAX_SIDE + 1, "png"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(SandboxRenderer.mimeType("jpg")).isEqualTo("image/jpeg");
    }

    /** Not a pass/fail check: prints what one image costs, for the README's performance notes. */
    @ParameterizedTest
    @CsvSource({"png,256", "jpeg,256", "webp,256", "png,512", "png,1024"})
    void printsRenderTime(String format, int size) {
        int rounds = size >= 1024 ? 10 : 200;
        for (int i = 0; i < rounds; i++) SandboxRenderer.render("warm-up", i, size, size, format);
        long bytes = 0;
        long start = System.nanoTime();
        for (int i = 0; i < rounds; i++) bytes += SandboxRenderer.render("benchmark prompt", i, size, size, format).length;
        double ms = (System.nanoTime() - start) / 1e6 / rounds;
        System.out.printf(Locale.ROOT, "render %s %dx%d: %.2f ms/image, %d bytes avg%n", format, size, size, ms, bytes / rounds);
        assertThat(bytes).isPositive();
    }

    private static BufferedImage decode(byte[] bytes) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(bytes));
    }

    private static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    private static double differing(int[] a, int[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) n++;
        return n / (double) a.length;
    }
}

package dev.kiln.compat.mediagen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.Json;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import tools.jackson.databind.JsonNode;

/** Runs MediaGen's own examples (shell and Node) as its users would, and reads what they print. */
final class SeedScripts {
    private SeedScripts() {}

    static String resource(String name) {
        try (InputStream in = SeedScripts.class.getResourceAsStream("/mediagen/" + name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a command with extra environment variables; returns what it printed on stdout. */
    static String run(Map<String, String> env, String... cmd) {
        try {
            Path err = Files.createTempFile("mediagen-script", ".err");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(240, TimeUnit.SECONDS)).as("%s finished", List.of(cmd)).isTrue();
            assertThat(p.exitValue()).as("%s exit code; stderr: %s", List.of(cmd), Files.readString(err)).isZero();
            Files.deleteIfExists(err);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A shell snippet from the guide, run by bash exactly as written, with {@code API_URL} set. */
    static List<JsonNode> curl(String resource, String apiUrl, Map<String, String> env) {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("API_URL", apiUrl);
        return jsonValues(run(all, "bash", "-c", resource(resource)));
    }

    /** The JSON values a script printed one after another (curl prints bodies without newlines). */
    static List<JsonNode> jsonValues(String text) {
        List<JsonNode> out = new ArrayList<>();
        try (var it = Json.MAPPER.readerFor(JsonNode.class).<JsonNode>readValues(text)) {
            while (it.hasNext()) out.add(it.next());
        }
        return out;
    }

    static byte[] png(int w, int h, Color c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.WHITE);
        g.fillOval(w / 4, h / 4, w / 2, h / 2);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}

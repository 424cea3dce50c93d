package dev.kiln.compat.runpodworker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.testing.KilnIntegrationTest;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RunPod worker format's Python client example and its result extraction, run by a real
 * Python with {@code requests} against Kiln with only {@code ENDPOINT_URL} changed (the handler's
 * bare output at {@code /runsync}, which is what the example's {@code result["status"] == "completed"}
 * reads). Skipped when no {@code python3} with {@code requests} is installed.
 */
class RunPodWorkerPythonClientTest extends KilnIntegrationTest {
    /** The example as published, but for ENDPOINT_URL and the workflow ({@code %s}). */
    static final String CLIENT = """
            import requests
            import base64

            ENDPOINT_URL = "%s"
            HEADERS = {
                "Content-Type": "application/json",
                "Authorization": "Bearer YOUR_API_KEY"
            }

            # Читаем изображение
            with open("image.jpg", "rb") as f:
                img_data = base64.b64encode(f.read()).decode()
                img_b64 = f"data:image/jpeg;base64,{img_data}"

            payload = {
                "input": {
                    "workflow": %s,
                    "images": [
                        {
                            "name": "image.jpg",
                            "image": img_b64
                        }
                    ]
                }
            }

            response = requests.post(ENDPOINT_URL, headers=HEADERS, json=payload)
            result = response.json()

            if result["status"] == "completed":
                for item in result["results"]:
                    filename = item["filename"]
                    image_data = base64.b64decode(item["image"])

                    with open(filename, "wb") as f:
                        f.write(image_data)

            print("STATUS=" + result["status"])
            """;
    static final String SEED_WORKFLOW = """
            {
                        "40": {
                            "inputs": {"image": "image.jpg"},
                            "class_type": "LoadImage"
                        }
                    }""";
    static final String SAVING_WORKFLOW = """
            {
                        "40": {
                            "inputs": {"image": "image.jpg"},
                            "class_type": "LoadImage"
                        },
                        "9": {
                            "inputs": {"filename_prefix": "ComfyUI", "images": ["40", 0]},
                            "class_type": "SaveImage"
                        }
                    }""";

    @TempDir
    Path dir;

    @Test
    void theExampleClientGetsTheHandlersOutputAndSavesTheImagesUnderTheirNames() throws Exception {
        Assumptions.assumeTrue(runs("python3", "-c", "import requests"), "python3 with requests is not installed");
        BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        var g = img.createGraphics();
        g.setColor(Color.CYAN);
        g.fillRect(0, 0, 40, 30);
        g.dispose();
        ImageIO.write(img, "jpg", dir.resolve("image.jpg").toFile());
        String url = "http://127.0.0.1:" + port + "/runsync";

        String out = python(CLIENT.formatted(url, SAVING_WORKFLOW));
        assertThat(out).contains("STATUS=completed");
        try (var files = Files.list(dir)) {
            Path saved = files.filter(p -> p.getFileName().toString().matches("ComfyUI_\\d{5}_\\.png")).findFirst().orElseThrow();
            BufferedImage back = ImageIO.read(saved.toFile());
            assertThat(back.getWidth()).isEqualTo(40);
            assertThat(back.getHeight()).isEqualTo(30);
        }
        // The example's own one-node workflow saves nothing: ComfyUI refuses it, in the handler's error shape.
        assertThat(python(CLIENT.formatted(url, SEED_WORKFLOW))).contains("STATUS=error");
    }

    private String python(String script) throws IOException, InterruptedException {
        Path file = dir.resolve("client.py");
        Files.writeString(file, script, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder("python3", file.toString()).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}

package dev.kiln.provider.fal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.catalog.Binding;
import dev.kiln.catalog.CatalogLoader;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.emulator.fal.FalEmulator;
import dev.kiln.provider.Download;
import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.ProviderHttp;
import dev.kiln.provider.RemoteRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.testing.TestCatalog;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

/**
 * flux-schnell's fal binding, rendered as Kiln renders it and run on the fal emulator (which
 * refuses fields and formats fal's flux/schnell does not take): every aspect ratio and both
 * megapixel settings give the sizes Replicate's flux-schnell produces (replicate/cog-flux
 * predict.py: {@code ASPECT_RATIOS}, halved for {@code megapixels: "0.25"}), and the output format
 * is one fal accepts (jpeg or png).
 */
class FalCatalogTest {
    static FalEmulator fal;
    static Model flux;

    @BeforeAll
    static void start() throws Exception {
        fal = FalEmulator.start(FalEmulator.Config.defaults().withApiKey("t"));
        try (InputStream in = FalCatalogTest.class.getResourceAsStream("/catalog/flux-schnell.yaml")) {
            List<String> problems = new ArrayList<>();
            flux = CatalogLoader.parse(in, "flux-schnell", problems, TestCatalog.PROVIDERS);
            assertThat(problems).isEmpty();
        }
    }

    @AfterAll
    static void stop() {
        fal.close();
    }

    @ParameterizedTest
    @CsvSource({
            "1:1, 1, webp, 1024, 1024, jpeg", "16:9, 1, jpg, 1344, 768, jpeg", "21:9, 1, png, 1536, 640, png",
            "3:2, 1, webp, 1216, 832, jpeg", "2:3, 1, webp, 832, 1216, jpeg", "4:5, 1, webp, 896, 1088, jpeg",
            "5:4, 1, webp, 1088, 896, jpeg", "3:4, 1, webp, 896, 1152, jpeg", "4:3, 1, webp, 1152, 896, jpeg",
            "9:16, 1, webp, 768, 1344, jpeg", "9:21, 1, webp, 640, 1536, jpeg",
            "1:1, 0.25, png, 512, 512, png", "16:9, 0.25, webp, 672, 384, jpeg", "4:5, 0.25, jpg, 448, 544, jpeg",
            "9:21, 0.25, webp, 320, 768, jpeg"})
    void sizesFollowReplicatesAndFormatsAreOnesFalTakes(String aspect, String megapixels, String format, int width, int height,
                                                        String falFormat) throws Exception {
        Binding binding = flux.bindings().stream().filter(b -> b.provider().equals("fal")).findFirst().orElseThrow();
        Map<String, Object> values = new HashMap<>();
        for (ParamSpec p : flux.params()) if (p.defaultValue() != null) values.put(p.name(), p.defaultValue());
        values.put("prompt", "a kiln at night");
        values.put("seed", 5);
        values.put("aspect_ratio", aspect);
        values.put("megapixels", megapixels);
        values.put("output_format", format);
        SubmitRequest req = new SubmitRequest("job_1", 1, flux.id(), "txt2img", "image", binding.remoteFor("txt2img"),
                binding.inputFor("txt2img"), binding.values(values), Map.of(), null, Instant.now().plusSeconds(600), Duration.ofSeconds(4));
        FalProvider adapter = new FalProvider(new ProviderHttp(), FalConfig.defaults());
        ProviderAccount account = new ProviderAccount("a", "fal", "t", fal.baseUrl(), "t", Map.of(), true);

        Submitted s = adapter.submit(account, req);
        JsonNode sent = fal.submissions().getLast().input();
        assertThat(sent.path("output_format").asString()).isEqualTo(falFormat);
        assertThat(sent.path("image_size").path("width").asInt()).isEqualTo(width);
        assertThat(sent.path("image_size").path("height").asInt()).isEqualTo(height);
        RemoteStatus done = adapter.poll(account, new RemoteRef(s.remoteId(), s.remote()));
        assertThat(done).as(done.toString()).isInstanceOf(RemoteStatus.Succeeded.class);
        try (Download d = adapter.open(account, ((RemoteStatus.Succeeded) done).outputs().getFirst())) {
            assertThat(d.contentType()).isEqualTo("image/" + falFormat);
            BufferedImage img = ImageIO.read(d.body());
            assertThat(img.getWidth()).isEqualTo(width);
            assertThat(img.getHeight()).isEqualTo(height);
        }
    }
}

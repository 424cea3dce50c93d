package dev.kiln.provider.wavespeed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.catalog.Binding;
import dev.kiln.catalog.CatalogLoader;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.emulator.wavespeed.WaveSpeedEmulator;
import dev.kiln.provider.Download;
import dev.kiln.provider.InputImage;
import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.ProviderHttp;
import dev.kiln.provider.RemoteRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.testing.TestCatalog;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The shipped catalogue's bindings, sent through the adapter to the emulator exactly as Kiln renders them. */
class WaveSpeedCatalogTest {

    @ParameterizedTest
    @CsvSource({"sandbox-image,txt2img", "sandbox-image,img2img", "seedream-v4.5,txt2img", "seedream-v4.5,img2img"})
    void everyShippedBindingRunsOnTheEmulator(String modelId, String mode) throws Exception {
        Model model;
        try (InputStream in = getClass().getResourceAsStream("/catalog/" + modelId + ".yaml")) {
            List<String> problems = new ArrayList<>();
            model = CatalogLoader.parse(in, modelId, problems, TestCatalog.PROVIDERS);
            assertThat(problems).isEmpty();
        }
        Binding binding = model.bindings().getFirst();
        Map<String, Object> values = new HashMap<>();
        for (ParamSpec p : model.params()) if (p.defaultFor(mode) != null && p.appliesTo(mode)) values.put(p.name(), p.defaultFor(mode));
        values.put("prompt", "a kiln at night");
        if (model.param("seed") != null) values.put("seed", 123);
        Map<String, List<InputImage>> images = new HashMap<>();
        if (mode.equals("img2img")) {
            byte[] png = SandboxRenderer.render("reference", 1, 32, 32, "png");
            images.put("reference", List.of(new InputImage("asset_1", "ab".repeat(32), "image/png", png.length, 32, 32, null,
                    () -> new ByteArrayInputStream(png))));
        }
        SubmitRequest req = new SubmitRequest("job_1", 1, model.id(), mode, model.kind(), binding.remoteFor(mode),
                binding.inputFor(mode), binding.values(values), images, null, Instant.now().plusSeconds(600), Duration.ofSeconds(2));

        try (WaveSpeedEmulator e = WaveSpeedEmulator.start(WaveSpeedEmulator.Config.defaults())) {
            WaveSpeedProvider provider = new WaveSpeedProvider(new ProviderHttp(), WaveSpeedConfig.defaults(binding.provider()));
            ProviderAccount account = new ProviderAccount("a", binding.provider(), "t", e.baseUrl(), null, Map.of(), true);
            Submitted s = provider.submit(account, req);
            RemoteStatus done = provider.poll(account, new RemoteRef(s.remoteId(), s.remote()));

            assertThat(done).isInstanceOf(RemoteStatus.Succeeded.class);
            try (Download d = provider.open(account, ((RemoteStatus.Succeeded) done).outputs().getFirst())) {
                BufferedImage img = ImageIO.read(d.body());
                if (values.containsKey("width")) {
                    assertThat(img.getWidth()).isEqualTo(((Number) values.get("width")).intValue());
                    assertThat(img.getHeight()).isEqualTo(((Number) values.get("height")).intValue());
                } else {
                    // Seedream's edit without a size follows its (square) input, at the model's smallest size.
                    assertThat(img.getWidth()).isEqualTo(img.getHeight()).isEqualTo(1920);
                }
            }
        }
    }
}

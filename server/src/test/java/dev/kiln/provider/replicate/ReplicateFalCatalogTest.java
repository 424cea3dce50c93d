package dev.kiln.provider.replicate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.catalog.Binding;
import dev.kiln.catalog.CatalogLoader;
import dev.kiln.catalog.ImageInputSpec;
import dev.kiln.catalog.ModeSpec;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.emulator.fal.FalEmulator;
import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.emulator.replicate.ReplicateEmulator;
import dev.kiln.provider.Download;
import dev.kiln.provider.InputImage;
import dev.kiln.provider.Provider;
import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.ProviderHttp;
import dev.kiln.provider.RemoteRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.provider.fal.FalConfig;
import dev.kiln.provider.fal.FalProvider;
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

/**
 * The shipped catalogue's Replicate and fal bindings, rendered as Kiln renders them (defaults,
 * derived values, input images) and run through the adapters on the emulators.
 */
class ReplicateFalCatalogTest {

    @ParameterizedTest
    @CsvSource({
            "flux-schnell, replicate, webp, 1024, 1024",
            "flux-schnell, fal, jpeg, 1024, 1024",
            "real-esrgan, replicate, png, 128, 96",
            "nano-banana-edit, replicate, jpeg, 32, 24",
            "birefnet, replicate, png, 32, 24"})
    void everyShippedBindingRunsOnItsEmulator(String modelId, String provider, String format, int width, int height) throws Exception {
        Model model;
        try (InputStream in = getClass().getResourceAsStream("/catalog/" + modelId + ".yaml")) {
            List<String> problems = new ArrayList<>();
            model = CatalogLoader.parse(in, modelId, problems, TestCatalog.PROVIDERS);
            assertThat(problems).isEmpty();
        }
        Binding binding = model.bindings().stream().filter(b -> b.provider().equals(provider)).findFirst().orElseThrow();
        ModeSpec mode = model.modes().getFirst();
        Map<String, Object> values = new HashMap<>();
        for (ParamSpec p : model.params()) if (p.defaultValue() != null) values.put(p.name(), p.defaultValue());
        values.put("prompt", "a kiln at night");
        values.put("seed", 123);
        Map<String, List<InputImage>> images = new HashMap<>();
        byte[] png = SandboxRenderer.render("reference", 1, 32, 24, "png");
        for (ImageInputSpec spec : mode.images()) {
            images.put(spec.name(), List.of(new InputImage("asset_1", "ab".repeat(32), "image/png", png.length, 32, 24, null,
                    () -> new ByteArrayInputStream(png))));
        }
        SubmitRequest req = new SubmitRequest("job_1", 1, model.id(), mode.id(), model.kind(), binding.remoteFor(mode.id()),
                binding.inputFor(mode.id()), binding.values(values), images, null, Instant.now().plusSeconds(600), Duration.ofSeconds(4));

        List<AutoCloseable> open = new ArrayList<>();
        try {
            Provider adapter;
            ProviderAccount account;
            if (provider.equals("replicate")) {
                ReplicateEmulator e = ReplicateEmulator.start(ReplicateEmulator.Config.defaults().withApiToken("t"));
                open.add(e);
                adapter = new ReplicateProvider(new ProviderHttp(), ReplicateConfig.defaults());
                account = new ProviderAccount("a", "replicate", "t", e.apiUrl(), "t", Map.of(), true);
            } else {
                FalEmulator e = FalEmulator.start(FalEmulator.Config.defaults().withApiKey("t"));
                open.add(e);
                adapter = new FalProvider(new ProviderHttp(), FalConfig.defaults());
                account = new ProviderAccount("a", "fal", "t", e.baseUrl(), "t", Map.of("jwks_url", e.jwksUrl()), true);
            }
            Submitted s = adapter.submit(account, req);
            RemoteStatus done = s.status() != null ? s.status() : adapter.poll(account, new RemoteRef(s.remoteId(), s.remote()));
            assertThat(done).as(done.toString()).isInstanceOf(RemoteStatus.Succeeded.class);
            try (Download d = adapter.open(account, ((RemoteStatus.Succeeded) done).outputs().getFirst())) {
                byte[] bytes = d.body().readAllBytes();
                assertThat(d.contentType()).isEqualTo("image/" + format);
                if (format.equals("webp")) {
                    assertThat(new String(bytes, 8, 4)).isEqualTo("WEBP");
                } else {
                    BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
                    assertThat(img.getWidth()).isEqualTo(width);
                    assertThat(img.getHeight()).isEqualTo(height);
                }
            }
        } finally {
            for (AutoCloseable c : open) c.close();
        }
    }
}

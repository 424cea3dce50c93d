package dev.kiln.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.emulator.testing.Http;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The emulators found by their folders, and {@code ./kiln emulate} starting them alone. */
class EmulateTest {

    @Test
    void everyServiceFolderHasItsLauncher() {
        assertThat(Emulators.launchers()).extracting(Launcher::service)
                .containsExactly("airtable", "comfyui", "fal", "replicate", "runpod", "runpodpods", "wavespeed");
        assertThat(Emulators.launchers()).allSatisfy(l ->
                assertThat(l.getClass().getPackageName()).isEqualTo("dev.kiln.emulator." + l.service()));
        assertThatThrownBy(() -> Emulators.start("nope", Launcher.Options.defaults()))
                .hasMessageContaining("no emulator of 'nope'").hasMessageContaining("wavespeed");
    }

    @Test
    void startsEveryServiceWithTheKeyGivenAndEachAnswersItsOwnProtocol() {
        Launcher.Options o = Emulate.parse(new String[] {"--port", "0", "--latency=50ms", "--fail-rate", "0", "--key", "k1"},
                new ArrayList<>());
        List<Emulator> running = Emulate.start(o, List.of());
        try {
            assertThat(running).hasSize(7);
            for (Emulator e : running) {
                assertThat(e.baseUrl()).startsWith("http://127.0.0.1:");
                if (!e.service().equals("comfyui")) assertThat(e.apiKey()).isEqualTo("k1");
                assertThat(Emulate.describe(e)).contains(e.title()).contains(e.baseUrl());
            }
            Emulator comfy = running.stream().filter(e -> e.service().equals("comfyui")).findFirst().orElseThrow();
            assertThat(comfy.apiKey()).isNull();
            assertThat(new Http(comfy.baseUrl()).get("/system_stats").status()).isEqualTo(200);
            Emulator pods = running.stream().filter(e -> e.service().equals("runpodpods")).findFirst().orElseThrow();
            assertThat(pods.settings()).containsKeys("rest_url", "graphql_url");
            assertThat(new Http(pods.baseUrl()).get("/pods").status()).as("RunPod pods: Bearer key required").isEqualTo(401);
            Emulator airtable = running.getFirst();
            assertThat(airtable.settings()).containsKeys("AIRTABLE_BASE_ID", "AIRTABLE_TABLE");
            assertThat(new Http(airtable.baseUrl()).get("/v0/" + airtable.settings().get("AIRTABLE_BASE_ID") + "/Generations").status())
                    .as("no token").isEqualTo(401);
            Emulator wavespeed = running.getLast();
            assertThat(wavespeed.settings()).containsKey("webhook_secret");
            assertThat(new Http(wavespeed.baseUrl()).get("/api/v3/predictions/nope/result").status()).isEqualTo(401);
        } finally {
            running.forEach(Emulator::close);
        }
    }

    @Test
    void consecutivePortsFromTheOneGiven() {
        List<Emulator> running = Emulate.start(Launcher.Options.defaults().withPort(0), List.of("fal", "replicate"));
        try {
            assertThat(running).extracting(Emulator::service).containsExactly("fal", "replicate");
        } finally {
            running.forEach(Emulator::close);
        }
        assertThatThrownBy(() -> Emulate.start(Launcher.Options.defaults(), List.of("nope"))).hasMessageContaining("no emulator of 'nope'");
    }

    @Test
    void badOptionsAreRefusedWithWhatIsAllowed() {
        assertThat(Emulate.parse(new String[] {"--help"}, new ArrayList<>())).isNull();
        assertThat(Emulate.parse(new String[] {"--latency", "1.5s"}, new ArrayList<>()).latency()).isEqualTo(Duration.ofMillis(1500));
        assertThatThrownBy(() -> Emulate.parse(new String[] {"--fail-rate", "2"}, new ArrayList<>())).hasMessageContaining("0..1");
        assertThatThrownBy(() -> Emulate.parse(new String[] {"--latency", "soon"}, new ArrayList<>())).hasMessageContaining("500ms");
        assertThatThrownBy(() -> Emulate.parse(new String[] {"--port", "x"}, new ArrayList<>())).hasMessageContaining("--port");
        assertThatThrownBy(() -> Emulate.parse(new String[] {"--colour", "red"}, new ArrayList<>())).hasMessageContaining("unknown option");
        assertThatThrownBy(() -> Emulate.parse(new String[] {"--key"}, new ArrayList<>())).hasMessageContaining("needs a value");
        Launcher.Options comfy = Emulate.parse(new String[] {"--comfy-models", "checkpoints/a.safetensors, loras/b.safetensors",
                "--comfy-nodes=IPAdapterAdvanced"}, new ArrayList<>());
        assertThat(comfy.comfyModels()).containsExactly("checkpoints/a.safetensors", "loras/b.safetensors");
        assertThat(comfy.comfyNodes()).containsExactly("IPAdapterAdvanced");
        assertThatThrownBy(() -> Emulate.parse(new String[] {"--comfy-models", "a.safetensors"}, new ArrayList<>()))
                .hasMessageContaining("--comfy-models").hasMessageContaining("folder/file");
        assertThatThrownBy(() -> Emulate.parse(new String[] {"--comfy-models", "models/a.safetensors"}, new ArrayList<>()))
                .hasMessageContaining("checkpoints");
    }
}

package dev.kiln.emulator.runpodpods;

import dev.kiln.emulator.Emulator;
import dev.kiln.emulator.Launcher;
import dev.kiln.emulator.comfy.ComfyInventory;
import java.util.Map;

/**
 * Starts the RunPod pods emulator: REST at {@code rest_url} (the base URL), GraphQL at
 * {@code graphql_url}; its pods are ComfyUI emulators with the default models and nodes (and those
 * given), reachable two seconds after they start, whose prompts take the configured latency.
 */
public final class RunPodPodsLauncher implements Launcher {
    @Override
    public String service() {
        return "runpodpods";
    }

    @Override
    public String title() {
        return "RunPod pods";
    }

    @Override
    public Emulator start(Options o) {
        ComfyInventory inventory = ComfyInventory.sandbox().withEntries(o.comfyModels())
                .withCustomNodes(o.comfyNodes().toArray(String[]::new));
        RunPodPodsEmulator e = RunPodPodsEmulator.start(RunPodPodsEmulator.Config.defaults(o.keyOrNew()).withPort(o.port())
                .withLatency(o.latency()).withInventory(inventory));
        return new Emulator(service(), title(), e.restUrl(), e.config().apiKey(),
                Map.of("rest_url", e.restUrl(), "graphql_url", e.graphqlUrl()), e);
    }
}

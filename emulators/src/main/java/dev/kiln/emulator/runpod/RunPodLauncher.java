package dev.kiln.emulator.runpod;

import dev.kiln.emulator.Emulator;
import dev.kiln.emulator.Launcher;
import dev.kiln.emulator.comfy.ComfyInventory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Starts the RunPod serverless emulator with one worker-comfyui endpoint, {@code sandbox}: the
 * stock worker (no video files), its image holding the default models and nodes. Its settings say
 * so as a RunPod account's settings would: {@code video_outputs}, {@code comfy_models}, {@code comfy_nodes}.
 */
public final class RunPodLauncher implements Launcher {
    @Override
    public String service() {
        return "runpod";
    }

    @Override
    public String title() {
        return "RunPod";
    }

    @Override
    public Emulator start(Options o) {
        ComfyInventory inventory = ComfyInventory.sandbox().withEntries(o.comfyModels())
                .withCustomNodes(o.comfyNodes().toArray(String[]::new));
        RunPodEmulator e = RunPodEmulator.start(RunPodEmulator.Config.defaults(o.keyOrNew(), "sandbox").withPort(o.port())
                .withLatency(o.latency()).withFailRate(o.failRate()).withInventory(inventory));
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("endpoint_id", e.endpointId());
        settings.put("video_outputs", Boolean.toString(e.config().videoOutputs()));
        List<String> models = new ArrayList<>();
        inventory.models().forEach((folder, files) -> files.forEach(f -> models.add(folder + "/" + f)));
        settings.put("comfy_models", String.join(",", models));
        settings.put("comfy_nodes", String.join(",", inventory.nodeClasses()));
        return new Emulator(service(), title(), e.baseUrl(), e.config().apiKey(), settings, e);
    }
}

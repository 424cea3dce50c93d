package dev.kiln.emulator.runpod;

import dev.kiln.emulator.Emulator;
import dev.kiln.emulator.Launcher;
import java.util.Map;

/** Starts the RunPod serverless emulator with one worker-comfyui endpoint, {@code sandbox}. */
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
        RunPodEmulator e = RunPodEmulator.start(RunPodEmulator.Config.defaults(o.keyOrNew(), "sandbox").withPort(o.port())
                .withLatency(o.latency()).withFailRate(o.failRate()));
        return new Emulator(service(), title(), e.baseUrl(), e.config().apiKey(), Map.of("endpoint_id", e.endpointId()), e);
    }
}

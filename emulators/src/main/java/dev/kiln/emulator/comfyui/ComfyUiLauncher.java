package dev.kiln.emulator.comfyui;

import dev.kiln.emulator.Emulator;
import dev.kiln.emulator.Launcher;
import dev.kiln.emulator.comfy.ComfyInventory;
import java.util.Map;

/** Starts the ComfyUI emulator, which takes no key. */
public final class ComfyUiLauncher implements Launcher {
    @Override
    public String service() {
        return "comfyui";
    }

    @Override
    public String title() {
        return "ComfyUI";
    }

    @Override
    public Emulator start(Options o) {
        ComfyInventory inventory = ComfyInventory.sandbox().withEntries(o.comfyModels())
                .withCustomNodes(o.comfyNodes().toArray(String[]::new));
        // ComfyUI runs one prompt at a time per GPU; the emulator has a few "GPUs" so batches move.
        ComfyUiEmulator e = ComfyUiEmulator.start(ComfyUiEmulator.Config.defaults().withPort(o.port()).withWorkers(4)
                .withLatency(o.latency()).withFailRate(o.failRate()).withWorkDir(o.stateDir()).withInventory(inventory));
        return new Emulator(service(), title(), e.baseUrl(), null, Map.of(), e);
    }
}

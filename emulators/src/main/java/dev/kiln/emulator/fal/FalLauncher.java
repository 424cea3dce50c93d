package dev.kiln.emulator.fal;

import dev.kiln.emulator.Emulator;
import dev.kiln.emulator.Launcher;
import java.util.Map;

/** Starts the fal queue emulator; its webhook keys are published at {@code jwks_url}. */
public final class FalLauncher implements Launcher {
    @Override
    public String service() {
        return "fal";
    }

    @Override
    public String title() {
        return "fal";
    }

    @Override
    public Emulator start(Options o) {
        FalEmulator e = FalEmulator.start(FalEmulator.Config.defaults().withPort(o.port()).withApiKey(o.keyOrNew())
                .withLatency(o.latency()).withFailRate(o.failRate()));
        return new Emulator(service(), title(), e.baseUrl(), e.config().apiKey(), Map.of("jwks_url", e.jwksUrl()), e);
    }
}

package dev.kiln.emulator.replicate;

import dev.kiln.emulator.Emulator;
import dev.kiln.emulator.Launcher;
import java.util.Map;

/** Starts the Replicate emulator; clients use its {@code /v1} root as their base URL. */
public final class ReplicateLauncher implements Launcher {
    @Override
    public String service() {
        return "replicate";
    }

    @Override
    public String title() {
        return "Replicate";
    }

    @Override
    public Emulator start(Options o) {
        ReplicateEmulator e = ReplicateEmulator.start(ReplicateEmulator.Config.defaults().withPort(o.port())
                .withApiToken(o.keyOrNew()).withLatency(o.latency()).withFailRate(o.failRate()));
        return new Emulator(service(), title(), e.apiUrl(), e.config().apiToken(),
                Map.of("webhook_secret", e.config().webhookSecret()), e);
    }
}

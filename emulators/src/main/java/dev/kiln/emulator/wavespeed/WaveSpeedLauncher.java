package dev.kiln.emulator.wavespeed;

import dev.kiln.emulator.Emulator;
import dev.kiln.emulator.Launcher;
import dev.kiln.emulator.support.Tokens;
import java.util.Map;

/** Starts the WaveSpeed emulator; with a state directory its tasks outlive a restart (journal {@code wavespeed.jsonl}). */
public final class WaveSpeedLauncher implements Launcher {
    @Override
    public String service() {
        return "wavespeed";
    }

    @Override
    public String title() {
        return "WaveSpeed";
    }

    @Override
    public Emulator start(Options o) {
        String secret = "whsec_" + Tokens.secret();
        WaveSpeedEmulator.Config config = WaveSpeedEmulator.Config.defaults().withPort(o.port()).withApiKey(o.keyOrNew())
                .withLatency(o.latency()).withFailRate(o.failRate()).withWebhookSecret(secret);
        WaveSpeedEmulator e = o.stateDir() == null ? WaveSpeedEmulator.start(config)
                : WaveSpeedEmulator.start(config, o.stateDir().resolve("wavespeed.jsonl"));
        return new Emulator(service(), title(), e.baseUrl(), config.apiKey(), Map.of("webhook_secret", secret), e);
    }
}

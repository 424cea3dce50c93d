package dev.kiln.sandbox;

import dev.kiln.account.AccountStore;
import dev.kiln.config.KilnProperties;
import dev.kiln.support.Ids;
import jakarta.annotation.PreDestroy;
import java.time.Clock;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Sandbox mode (SPEC §8): local emulators of the provider protocols on loopback ports, with an
 * account for each, so every model runs offline and costs nothing. With {@code KILN_SANDBOX=auto}
 * (the default) a provider's models use its emulator only while no real account of that provider
 * exists; with {@code on} they always do; {@code off} starts nothing. The {@code sandbox}
 * provider (the demo models) speaks the WaveSpeed protocol to the same emulator.
 */
@Component
public class Sandbox {
    private static final Logger log = LoggerFactory.getLogger(Sandbox.class);
    /** Generous limits: the emulator is local and free. */
    static final int CONCURRENCY = 512;
    static final int RATE_PER_MINUTE = 6_000_000;

    private final WaveSpeedEmulator wavespeed;

    Sandbox(KilnProperties props, AccountStore accounts, Clock clock) {
        if (props.sandbox() == KilnProperties.SandboxMode.OFF) {
            wavespeed = null;
            log.info("sandbox is off (KILN_SANDBOX=off): only configured providers can run jobs");
            return;
        }
        String key = "sandbox-" + Ids.secretToken();
        String secret = "whsec_" + Ids.secretToken();
        wavespeed = WaveSpeedEmulator.start(WaveSpeedEmulator.Config.defaults().withApiKey(key)
                .withLatency(props.sandboxLatency()).withFailRate(props.sandboxFailRate()).withWebhookSecret(secret),
                props.dataDir().resolve("sandbox").resolve("wavespeed.jsonl"));
        Map<String, String> config = Map.of("webhook_secret", secret);
        for (String provider : new String[] {"sandbox", "wavespeed"}) {
            accounts.upsertRuntime(new AccountStore.Definition(provider, "sandbox", "sandbox", wavespeed.baseUrl(), key, config,
                    true, CONCURRENCY, RATE_PER_MINUTE), clock.instant());
        }
        log.info("sandbox: WaveSpeed emulator at {} (latency {}, failure rate {})", wavespeed.baseUrl(),
                props.sandboxLatency(), props.sandboxFailRate());
    }

    /** The WaveSpeed emulator, or null when the sandbox is off. */
    public WaveSpeedEmulator wavespeed() {
        return wavespeed;
    }

    @PreDestroy
    void stop() {
        if (wavespeed != null) wavespeed.close();
    }
}

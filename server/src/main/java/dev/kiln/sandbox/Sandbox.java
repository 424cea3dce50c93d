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
    private final ReplicateEmulator replicate;
    private final FalEmulator fal;
    private final ComfyUiEmulator comfyui;
    private final RunPodEmulator runpod;

    Sandbox(KilnProperties props, AccountStore accounts, Clock clock) {
        if (props.sandbox() == KilnProperties.SandboxMode.OFF) {
            wavespeed = null;
            replicate = null;
            fal = null;
            comfyui = null;
            runpod = null;
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
        replicate = ReplicateEmulator.start(ReplicateEmulator.Config.defaults().withApiToken("sandbox-" + Ids.secretToken())
                .withLatency(props.sandboxLatency()).withFailRate(props.sandboxFailRate()));
        accounts.upsertRuntime(new AccountStore.Definition("replicate", "sandbox", "sandbox", replicate.apiUrl(),
                replicate.config().apiToken(), Map.of("webhook_secret", replicate.config().webhookSecret()),
                true, CONCURRENCY, RATE_PER_MINUTE), clock.instant());
        fal = FalEmulator.start(FalEmulator.Config.defaults().withApiKey("sandbox-" + Ids.secretToken())
                .withLatency(props.sandboxLatency()).withFailRate(props.sandboxFailRate()));
        accounts.upsertRuntime(new AccountStore.Definition("fal", "sandbox", "sandbox", fal.baseUrl(),
                fal.config().apiKey(), Map.of("jwks_url", fal.jwksUrl()), true, CONCURRENCY, RATE_PER_MINUTE), clock.instant());
        // ComfyUI runs one prompt at a time per GPU; the sandbox has a few "GPUs" so batches move.
        comfyui = ComfyUiEmulator.start(ComfyUiEmulator.Config.defaults().withWorkers(4)
                .withLatency(props.sandboxLatency()).withFailRate(props.sandboxFailRate()));
        accounts.upsertRuntime(new AccountStore.Definition("comfyui", "sandbox", "sandbox", comfyui.baseUrl(), null, Map.of(),
                true, CONCURRENCY, RATE_PER_MINUTE), clock.instant());
        String runpodKey = "sandbox-" + Ids.secretToken();
        runpod = RunPodEmulator.start(RunPodEmulator.Config.defaults(runpodKey, "sandbox")
                .withLatency(props.sandboxLatency()).withFailRate(props.sandboxFailRate()));
        accounts.upsertRuntime(new AccountStore.Definition("runpod", "sandbox", "sandbox", runpod.baseUrl(), runpodKey,
                Map.of("endpoint_id", runpod.endpointId()), true, CONCURRENCY, RATE_PER_MINUTE), clock.instant());
        log.info("sandbox (latency {}, failure rate {}): WaveSpeed at {}, Replicate at {}, fal at {}, ComfyUI at {}, RunPod at {}",
                props.sandboxLatency(), props.sandboxFailRate(), wavespeed.baseUrl(), replicate.apiUrl(), fal.baseUrl(),
                comfyui.baseUrl(), runpod.baseUrl());
    }

    /** The Replicate emulator, or null when the sandbox is off. */
    public ReplicateEmulator replicate() {
        return replicate;
    }

    /** The ComfyUI emulator, or null when the sandbox is off. */
    public ComfyUiEmulator comfyui() {
        return comfyui;
    }

    /** The RunPod (worker-comfyui) emulator, or null when the sandbox is off. */
    public RunPodEmulator runpod() {
        return runpod;
    }

    /** The fal emulator, or null when the sandbox is off. */
    public FalEmulator fal() {
        return fal;
    }

    /** The WaveSpeed emulator, or null when the sandbox is off. */
    public WaveSpeedEmulator wavespeed() {
        return wavespeed;
    }

    @PreDestroy
    void stop() {
        if (wavespeed != null) wavespeed.close();
        if (replicate != null) replicate.close();
        if (fal != null) fal.close();
        if (comfyui != null) comfyui.close();
        if (runpod != null) runpod.close();
    }
}

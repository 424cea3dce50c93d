package dev.kiln.sandbox;

import dev.kiln.account.AccountStore;
import dev.kiln.config.KilnProperties;
import dev.kiln.emulator.Emulator;
import dev.kiln.emulator.Emulators;
import dev.kiln.emulator.Launcher;
import dev.kiln.pod.PodEndpoint;
import dev.kiln.provider.ProviderDescriptor;
import jakarta.annotation.PreDestroy;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Sandbox mode (README, "Configuration"): the emulators of the provider protocols (the
 * {@code kiln-emulators} module) on loopback ports, with an account for each provider that names
 * one in its {@link ProviderDescriptor}, so every model runs offline and costs nothing. With
 * {@code KILN_SANDBOX=auto} (the default) a provider's models use its emulator only while no real
 * account of that provider exists; with {@code on} they always do; {@code off} starts nothing.
 * The only place in Kiln that knows the emulators.
 */
@Component
public class Sandbox {
    private static final Logger log = LoggerFactory.getLogger(Sandbox.class);
    /** Generous limits: the emulator is local and free. */
    static final int CONCURRENCY = 512;
    static final int RATE_PER_MINUTE = 6_000_000;
    static final String PODS_SERVICE = "runpodpods";

    /** The running emulators, by service. */
    private final Map<String, Emulator> emulators = new LinkedHashMap<>();

    Sandbox(KilnProperties props, SandboxProperties sandboxProps, List<ProviderDescriptor> descriptors, AccountStore accounts,
            Clock clock, PodEndpoint pods) {
        if (props.sandbox() == KilnProperties.SandboxMode.OFF) {
            log.info("sandbox is off (KILN_SANDBOX=off): only configured providers can run jobs");
            return;
        }
        Launcher.Options options = new Launcher.Options(0, props.sandboxLatency(), props.sandboxFailRate(), null,
                props.dataDir().resolve("sandbox"), sandboxProps.sandboxComfyModels(), sandboxProps.sandboxComfyNodes());
        try {
            for (ProviderDescriptor d : descriptors) {
                ProviderDescriptor.Sandbox s = d.sandbox();
                if (s == null) continue;
                Emulator e = emulators.computeIfAbsent(s.service(), service -> Emulators.start(service, options));
                Map<String, String> config = new LinkedHashMap<>();
                for (ProviderDescriptor.Setting setting : d.settings()) {
                    String v = e.settings().get(setting.key());
                    if (v != null) config.put(setting.key(), v);
                }
                for (String provider : s.providerIds()) {
                    accounts.upsertRuntime(new AccountStore.Definition(provider, "sandbox", "sandbox", e.baseUrl(), e.apiKey(),
                            config, true, CONCURRENCY, RATE_PER_MINUTE), clock.instant());
                }
            }
            // RunPod's Pods API (the pod pool, Vibewave's /api/runpod routes) while no RunPod key is configured.
            if (!pods.configured() || props.sandbox() == KilnProperties.SandboxMode.ON) {
                Emulator e = emulators.computeIfAbsent(PODS_SERVICE, service -> Emulators.start(service, options));
                pods.useSandbox(e.settings().get("rest_url"), e.settings().get("graphql_url"), e.apiKey());
            }
        } catch (RuntimeException ex) {
            stop();
            throw ex;
        }
        log.info("sandbox (latency {}, failure rate {}): {}", props.sandboxLatency(), props.sandboxFailRate(),
                emulators.values().stream().map(e -> e.title() + " at " + e.baseUrl()).collect(Collectors.joining(", ")));
    }

    /** The running emulator of this type (tests arm its faults), or null when the sandbox is off. */
    public <T> T emulator(Class<T> type) {
        for (Emulator e : emulators.values()) if (type.isInstance(e.instance())) return type.cast(e.instance());
        return null;
    }

    @PreDestroy
    void stop() {
        emulators.values().forEach(Emulator::close);
        emulators.clear();
    }
}

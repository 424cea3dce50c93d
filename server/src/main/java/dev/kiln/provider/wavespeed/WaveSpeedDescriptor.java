package dev.kiln.provider.wavespeed;

import dev.kiln.provider.Provider;
import dev.kiln.provider.ProviderDescriptor;
import dev.kiln.provider.ProviderHttp;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * WaveSpeed, and the {@code sandbox} provider of the demo models, which speaks the WaveSpeed
 * protocol to the same emulator and exists only in the sandbox.
 */
@Component
class WaveSpeedDescriptor implements ProviderDescriptor {
    /** The demo models' provider id: the WaveSpeed protocol, always on the sandbox's emulator. */
    static final String SANDBOX = "sandbox";

    @Override
    public String id() {
        return "wavespeed";
    }

    @Override
    public List<Provider> adapters(ProviderHttp http) {
        return List.of(new WaveSpeedProvider(http, WaveSpeedConfig.defaults(id())),
                new WaveSpeedProvider(http, WaveSpeedConfig.defaults(SANDBOX)));
    }

    @Override
    public Env env() {
        return Env.keyed("WAVESPEED", "WAVESPEED_API_KEY", "https://api.wavespeed.ai", new Limits(2, 50));
    }

    @Override
    public List<Setting> settings() {
        return List.of(Setting.optional("webhook_secret", "WAVESPEED_WEBHOOK_SECRET"));
    }

    @Override
    public Sandbox sandbox() {
        return new Sandbox("wavespeed", List.of(SANDBOX, id()));
    }
}

package dev.kiln.provider.fal;

import dev.kiln.provider.Provider;
import dev.kiln.provider.ProviderDescriptor;
import dev.kiln.provider.ProviderHttp;
import java.util.List;
import org.springframework.stereotype.Component;

/** fal: the queue API, webhooks signed with Ed25519 keys published as a JWKS. */
@Component
class FalDescriptor implements ProviderDescriptor {
    /** Where fal publishes its webhook keys. */
    static final String JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json";

    @Override
    public String id() {
        return "fal";
    }

    @Override
    public List<Provider> adapters(ProviderHttp http) {
        return List.of(new FalProvider(http, FalConfig.defaults()));
    }

    @Override
    public Env env() {
        return Env.keyed("FAL", "FAL_KEY", "https://queue.fal.run", new Limits(10, 600));
    }

    @Override
    public List<Setting> settings() {
        return List.of(Setting.withDefault("jwks_url", "FAL_JWKS_URL", JWKS_URL));
    }

    @Override
    public Sandbox sandbox() {
        return new Sandbox("fal", List.of(id()));
    }
}

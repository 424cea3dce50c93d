package dev.kiln.provider.replicate;

import dev.kiln.provider.Provider;
import dev.kiln.provider.ProviderDescriptor;
import dev.kiln.provider.ProviderHttp;
import java.util.List;
import org.springframework.stereotype.Component;

/** Replicate: predictions API, Standard Webhooks signed with the account's signing secret. */
@Component
class ReplicateDescriptor implements ProviderDescriptor {
    @Override
    public String id() {
        return "replicate";
    }

    @Override
    public List<Provider> adapters(ProviderHttp http) {
        return List.of(new ReplicateProvider(http, ReplicateConfig.defaults()));
    }

    @Override
    public Env env() {
        return Env.keyed("REPLICATE", "REPLICATE_API_TOKEN", "https://api.replicate.com/v1", new Limits(20, 600));
    }

    @Override
    public List<Setting> settings() {
        return List.of(Setting.optional("webhook_secret", "REPLICATE_WEBHOOK_SECRET"));
    }

    @Override
    public Sandbox sandbox() {
        return new Sandbox("replicate", List.of(id()));
    }
}

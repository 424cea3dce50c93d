package dev.kiln.provider;

import java.time.Duration;
import java.util.List;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The shared transport, and the adapters of every provider's {@link ProviderDescriptor}. */
@Configuration(proxyBeanMethods = false)
class ProviderConfig {
    @Bean
    ProviderHttp providerHttp() {
        return new ProviderHttp(Duration.ofSeconds(10));
    }

    /** Closed with the context: some adapters hold connections (ComfyUI's websockets). */
    @Bean
    Providers providers(List<ProviderDescriptor> descriptors, ProviderHttp http) {
        return Providers.of(descriptors, http);
    }
}

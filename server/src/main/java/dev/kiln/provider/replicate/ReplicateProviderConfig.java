package dev.kiln.provider.replicate;

import dev.kiln.provider.Provider;
import dev.kiln.provider.ProviderHttp;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class ReplicateProviderConfig {
    @Bean
    Provider replicateProvider(ProviderHttp http) {
        return new ReplicateProvider(http, ReplicateConfig.defaults());
    }
}

package dev.kiln.provider.fal;

import dev.kiln.provider.Provider;
import dev.kiln.provider.ProviderHttp;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class FalProviderConfig {
    @Bean
    Provider falProvider(ProviderHttp http) {
        return new FalProvider(http, FalConfig.defaults());
    }
}

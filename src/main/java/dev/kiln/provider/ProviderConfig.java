package dev.kiln.provider;

import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class ProviderConfig {
    @Bean
    ProviderHttp providerHttp() {
        return new ProviderHttp(Duration.ofSeconds(10));
    }
}

package dev.kiln.provider;

import dev.kiln.provider.wavespeed.WaveSpeedConfig;
import dev.kiln.provider.wavespeed.WaveSpeedProvider;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class ProviderConfig {
    @Bean
    ProviderHttp providerHttp() {
        return new ProviderHttp(Duration.ofSeconds(10));
    }

    @Bean
    Provider wavespeedProvider(ProviderHttp http) {
        return new WaveSpeedProvider(http, WaveSpeedConfig.defaults("wavespeed"));
    }

    /** The demo models' provider: the WaveSpeed protocol, always pointed at the sandbox emulator. */
    @Bean
    Provider sandboxProvider(ProviderHttp http) {
        return new WaveSpeedProvider(http, WaveSpeedConfig.defaults("sandbox"));
    }
}

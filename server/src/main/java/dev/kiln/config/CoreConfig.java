package dev.kiln.config;

import java.time.Clock;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Beans shared across features. */
@Configuration(proxyBeanMethods = false)
class CoreConfig {
    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }
}

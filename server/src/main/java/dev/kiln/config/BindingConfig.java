package dev.kiln.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.convert.converter.Converter;

/**
 * How configuration is bound: every {@link Duration} setting is read by {@link Durations} (so
 * {@code KILN_SANDBOX_LATENCY=0.5s} works), and the limit and retention records are enabled here,
 * each in its own record rather than in {@link KilnProperties}.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({LimitsProperties.class, RetentionProperties.class})
class BindingConfig {

    /** Takes precedence over Spring's own String-to-Duration conversion for configuration properties. */
    @Bean
    @ConfigurationPropertiesBinding
    static Converter<String, Duration> decimalDurations() {
        return new Converter<>() {
            @Override
            public Duration convert(String source) {
                return Durations.parse(source);
            }
        };
    }
}

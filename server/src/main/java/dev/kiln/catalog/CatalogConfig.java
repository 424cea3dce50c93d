package dev.kiln.catalog;

import dev.kiln.config.KilnProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class CatalogConfig {
    @Bean
    Catalog catalog(KilnProperties props, BindingTargets providers) {
        return CatalogLoader.load(props.catalogDir(), providers);
    }
}

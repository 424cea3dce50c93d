package dev.kiln.provider.comfyui;

import dev.kiln.provider.ProviderHttp;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Registers the ComfyUI adapter (closed with the context: it holds websocket connections). */
@Configuration(proxyBeanMethods = false)
class ComfyUiBeans {
    @Bean
    ComfyUiProvider comfyUiProvider(ProviderHttp http) {
        return new ComfyUiProvider(http, ComfyUiConfig.defaults());
    }
}

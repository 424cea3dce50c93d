package dev.kiln.provider.runpod;

import dev.kiln.provider.ProviderHttp;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Registers the RunPod serverless (worker-comfyui) adapter. */
@Configuration(proxyBeanMethods = false)
class RunPodBeans {
    @Bean
    RunPodProvider runPodProvider(ProviderHttp http) {
        return new RunPodProvider(http, RunPodConfig.defaults());
    }
}

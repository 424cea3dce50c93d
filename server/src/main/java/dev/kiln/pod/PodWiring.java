package dev.kiln.pod;

import dev.kiln.provider.runpod.pods.RunPodPods;
import java.time.Duration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The RunPod pods client, pointed at {@link PodEndpoint}. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(PodProperties.class)
class PodWiring {
    @Bean
    RunPodPods runPodPods(PodEndpoint endpoint) {
        return new RunPodPods(endpoint::current, Duration.ofSeconds(30));
    }
}

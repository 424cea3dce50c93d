package dev.kiln.pod;

import dev.kiln.provider.runpod.pods.RunPodPods;
import org.springframework.stereotype.Component;

/**
 * Where Kiln's RunPod pods client points: {@code RUNPOD_REST_URL}, {@code RUNPOD_GRAPHQL_URL} and
 * {@code RUNPOD_API_KEY}, or, in sandbox mode without a RunPod key, the sandbox's RunPod pods
 * emulator (set once by the sandbox at start-up).
 */
@Component
public class PodEndpoint {
    private final PodProperties props;
    private volatile RunPodPods.Endpoint override;

    PodEndpoint(PodProperties props) {
        this.props = props;
    }

    /** Whether a RunPod key is configured (so the sandbox leaves RunPod alone). */
    public boolean configured() {
        return props.apiKey() != null;
    }

    /** Points the client at the sandbox's emulator. */
    public void useSandbox(String restUrl, String graphqlUrl, String apiKey) {
        override = new RunPodPods.Endpoint(restUrl, graphqlUrl, apiKey);
    }

    public boolean sandbox() {
        return override != null;
    }

    RunPodPods.Endpoint current() {
        RunPodPods.Endpoint o = override;
        return o != null ? o : new RunPodPods.Endpoint(props.restUrl(), props.graphqlUrl(), props.apiKey());
    }
}

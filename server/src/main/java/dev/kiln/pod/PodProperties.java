package dev.kiln.pod;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The pod pool (README, "Pod pool"), bound from the environment through application.yml.
 * Defaults are seed 004's pod template: an RTX 4090 or the next GPU type available, its image,
 * 50 GB container disk, 24 GB memory, ports 8188 (ComfyUI) and 8888, at most 5 pods.
 *
 * @param enabled whether Kiln runs ComfyUI pods at all ({@code KILN_PODS})
 * @param restUrl RunPod's REST API ({@code RUNPOD_REST_URL})
 * @param graphqlUrl RunPod's GraphQL API ({@code RUNPOD_GRAPHQL_URL})
 * @param apiKey RunPod API key ({@code RUNPOD_API_KEY})
 * @param gpuTypes GPU type ids in order of preference; RunPod places the pod on the first available ({@code KILN_PODS_GPU_TYPES})
 * @param image the container image ({@code KILN_PODS_IMAGE})
 * @param templateId a RunPod template to create pods from instead of the image ({@code KILN_PODS_TEMPLATE_ID})
 * @param containerDiskGb container disk ({@code KILN_PODS_DISK_GB})
 * @param minMemoryGb memory per GPU at least ({@code KILN_PODS_MEMORY_GB})
 * @param ports exposed ports, {@code port/http} or {@code port/tcp} ({@code KILN_PODS_PORTS})
 * @param comfyPort the port ComfyUI listens on ({@code KILN_PODS_COMFY_PORT})
 * @param cloudType {@code SECURE} or {@code COMMUNITY} ({@code KILN_PODS_CLOUD_TYPE})
 * @param networkVolumeId a network volume holding the models, attached to every pod ({@code KILN_PODS_NETWORK_VOLUME})
 * @param proxyUrl where a pod's HTTP port is reached when RunPod maps no public port for it ({@code KILN_PODS_PROXY_URL})
 * @param max most pods at once, starting ones included ({@code KILN_PODS_MAX})
 * @param scaleUpAfter a pod is added when the oldest queued ComfyUI job has waited this long ({@code KILN_PODS_SCALE_UP_AFTER})
 * @param jobsPerPod one pod per this many waiting jobs ({@code KILN_PODS_JOBS_PER_POD})
 * @param idleStopAfter a ready pod with no work for this long is stopped ({@code KILN_PODS_IDLE_STOP_AFTER})
 * @param terminateAfter a stopped pod is terminated after this long ({@code KILN_PODS_TERMINATE_AFTER})
 * @param maxSpendPerHour dollars per hour the running and starting pods may cost together ({@code KILN_PODS_MAX_SPEND_PER_HOUR})
 * @param readyTimeout a pod whose ComfyUI does not answer this long after it started is replaced ({@code KILN_PODS_READY_TIMEOUT})
 * @param misses failed checks in a row after which a ready pod counts as dead ({@code KILN_PODS_MISSES})
 * @param interval how often the pool looks ({@code KILN_PODS_INTERVAL})
 * @param podConcurrency jobs sent to one pod's ComfyUI at once ({@code KILN_PODS_CONCURRENCY})
 */
@ConfigurationProperties("kiln.pods")
public record PodProperties(boolean enabled, String restUrl, String graphqlUrl, String apiKey, List<String> gpuTypes, String image,
                            String templateId, int containerDiskGb, int minMemoryGb, List<String> ports, int comfyPort,
                            String cloudType, String networkVolumeId, String proxyUrl, int max, Duration scaleUpAfter,
                            int jobsPerPod, Duration idleStopAfter, Duration terminateAfter, double maxSpendPerHour,
                            Duration readyTimeout, int misses, Duration interval, int podConcurrency) {
    public PodProperties {
        restUrl = blank(restUrl) ? "https://rest.runpod.io/v1" : restUrl.trim();
        graphqlUrl = blank(graphqlUrl) ? "https://api.runpod.io/graphql" : graphqlUrl.trim();
        apiKey = blank(apiKey) ? null : apiKey.trim();
        gpuTypes = clean(gpuTypes, List.of("NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 3090", "NVIDIA RTX A5000", "NVIDIA L40S"));
        image = blank(image) ? "runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04" : image.trim();
        templateId = blank(templateId) ? null : templateId.trim();
        if (containerDiskGb <= 0) containerDiskGb = 50;
        if (minMemoryGb <= 0) minMemoryGb = 24;
        ports = clean(ports, List.of("8188/http", "8888/http"));
        if (comfyPort <= 0) comfyPort = 8188;
        cloudType = blank(cloudType) ? "SECURE" : cloudType.trim().toUpperCase(java.util.Locale.ROOT);
        networkVolumeId = blank(networkVolumeId) ? null : networkVolumeId.trim();
        proxyUrl = blank(proxyUrl) ? "https://{id}-{port}.proxy.runpod.net" : proxyUrl.trim();
        if (max < 0) throw new IllegalArgumentException("KILN_PODS_MAX must not be negative: " + max);
        if (max == 0) max = 5;
        scaleUpAfter = orDefault(scaleUpAfter, Duration.ofSeconds(30));
        if (jobsPerPod <= 0) jobsPerPod = 4;
        idleStopAfter = orDefault(idleStopAfter, Duration.ofMinutes(10));
        terminateAfter = orDefault(terminateAfter, Duration.ofHours(1));
        if (maxSpendPerHour < 0) throw new IllegalArgumentException("KILN_PODS_MAX_SPEND_PER_HOUR must not be negative");
        if (maxSpendPerHour == 0) maxSpendPerHour = 5.0;
        readyTimeout = orDefault(readyTimeout, Duration.ofMinutes(10));
        if (misses <= 0) misses = 2;
        interval = orDefault(interval, Duration.ofSeconds(5));
        if (podConcurrency <= 0) podConcurrency = 2;
        if (!cloudType.equals("SECURE") && !cloudType.equals("COMMUNITY")) {
            throw new IllegalArgumentException("KILN_PODS_CLOUD_TYPE must be SECURE or COMMUNITY: " + cloudType);
        }
        if (!ports.contains(comfyPort + "/http") && !ports.contains(comfyPort + "/tcp")) {
            throw new IllegalArgumentException("KILN_PODS_PORTS must expose ComfyUI's port " + comfyPort + ": " + ports);
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static Duration orDefault(Duration d, Duration def) {
        return d == null || d.isZero() || d.isNegative() ? def : d;
    }

    private static List<String> clean(List<String> l, List<String> def) {
        List<String> out = l == null ? List.of() : l.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
        return out.isEmpty() ? def : out;
    }

    @Override
    public String toString() {
        return "PodProperties[enabled=" + enabled + ", max=" + max + ", gpuTypes=" + gpuTypes + ", apiKey=" + (apiKey == null ? "none" : "(set)") + "]";
    }
}

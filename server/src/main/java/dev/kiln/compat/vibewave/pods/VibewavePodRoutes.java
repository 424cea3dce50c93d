package dev.kiln.compat.vibewave.pods;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * Vibewave's RunPod routes (seed 004: account, stats, pods, GPU and cloud types, network volumes,
 * templates), proxied to RunPod's own APIs. The account and its pods are the operator's: every
 * route but {@code /health} needs an admin (in {@code KILN_AUTH=local}, anyone on this machine).
 * Errors are {@code {"detail": "…"}} ({@link VibewavePodErrors}).
 */
@Tag(name = "Seed API: Vibewave")
@RestController
@RequestMapping("/api/runpod")
@ConditionalOnCompat("004")
class VibewavePodRoutes {
    private final VibewavePods pods;

    VibewavePodRoutes(VibewavePods pods) {
        this.pods = pods;
    }

    private static void admin(Caller caller) {
        if (!caller.isAdmin()) throw new KilnException(ErrorCode.FORBIDDEN, "Only an admin may manage the RunPod account");
    }

    @Operation(summary = "RunPod service health check", description = "Healthy when RunPod answers for the configured key; 500 {\"detail\"} when not.")
    @GetMapping("/health")
    Map<String, Object> health() {
        return pods.health();
    }

    @Operation(summary = "Get RunPod account information", description = "RunPod's GraphQL `myself`: id, email, clientBalance, currentSpendPerHr, spendLimit, networkVolumes.")
    @GetMapping("/account")
    JsonNode account(Caller caller) {
        admin(caller);
        return pods.account();
    }

    @Operation(summary = "Get RunPod usage statistics", description = "active_pods (running at RunPod), and Vibewave's requests: pending, completed, failed, total.")
    @GetMapping("/stats")
    Map<String, Object> stats(Caller caller) {
        admin(caller);
        return pods.stats();
    }

    @Operation(summary = "Get all pods", description = "RunPod's Pod objects (GET /pods).")
    @GetMapping("/pods")
    JsonNode list(Caller caller) {
        admin(caller);
        return pods.pods();
    }

    @Operation(summary = "Get specific pod details")
    @GetMapping("/pods/{podId}")
    JsonNode get(Caller caller, @PathVariable String podId) {
        admin(caller);
        return pods.pod(podId);
    }

    @Operation(summary = "Create a new pod", description = "Optional body: name, workflow_name, image_name or template_id, gpu_type_id or gpu_type_ids, "
            + "gpu_count, cloud_type, container_disk_in_gb, volume_in_gb, volume_mount_path, min_memory_in_gb, ports, env, network_volume_id. "
            + "Defaults: RTX 4090 or the next available GPU type, runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04, 50 GB disk, "
            + "24 GB memory, ports 22, 8080, 8188, 8888, 11434. Answers RunPod's Pod.")
    @PostMapping("/pods")
    JsonNode create(Caller caller, @RequestBody(required = false) JsonNode body) {
        admin(caller);
        return pods.create(body);
    }

    @Operation(summary = "Start a pod")
    @PostMapping("/pods/{podId}/start")
    JsonNode start(Caller caller, @PathVariable String podId) {
        admin(caller);
        return pods.start(podId);
    }

    @Operation(summary = "Stop a pod")
    @PostMapping("/pods/{podId}/stop")
    JsonNode stop(Caller caller, @PathVariable String podId) {
        admin(caller);
        return pods.stop(podId);
    }

    @Operation(summary = "Restart a pod")
    @PostMapping("/pods/{podId}/restart")
    JsonNode restart(Caller caller, @PathVariable String podId) {
        admin(caller);
        return pods.restart(podId);
    }

    @Operation(summary = "Terminate a pod", description = "RunPod's DELETE /pods/{podId}: the pod and its disk are gone.")
    @PostMapping("/pods/{podId}/terminate")
    Map<String, Object> terminate(Caller caller, @PathVariable String podId) {
        admin(caller);
        return pods.terminate(podId);
    }

    @Operation(summary = "Get pod IP address", description = "pod_id, ip, ports (private → public port), status; 404 while the pod has no IP.")
    @GetMapping("/pods/{podId}/ip")
    Map<String, Object> ip(Caller caller, @PathVariable String podId) {
        admin(caller);
        return pods.ip(podId);
    }

    @Operation(summary = "Get available GPU types", description = "RunPod's GraphQL `gpuTypes` with prices.")
    @GetMapping("/gpu-types")
    JsonNode gpuTypes(Caller caller) {
        admin(caller);
        return pods.gpuTypes();
    }

    @Operation(summary = "Get available cloud types")
    @GetMapping("/cloud-types")
    List<Map<String, String>> cloudTypes(Caller caller) {
        admin(caller);
        return pods.cloudTypes();
    }

    @Operation(summary = "Get network volumes")
    @GetMapping("/network-volumes")
    JsonNode networkVolumes(Caller caller) {
        admin(caller);
        return pods.networkVolumes();
    }

    @Operation(summary = "Get specific network volume")
    @GetMapping("/network-volumes/{volumeId}")
    JsonNode networkVolume(Caller caller, @PathVariable String volumeId) {
        admin(caller);
        return pods.networkVolume(volumeId);
    }

    @Operation(summary = "Get available templates")
    @GetMapping("/templates")
    JsonNode templates(Caller caller) {
        admin(caller);
        return pods.templates();
    }
}

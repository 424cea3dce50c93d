package dev.kiln.compat.vibewave.pods;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.job.JobStore;
import dev.kiln.pod.PodEndpoint;
import dev.kiln.provider.ProviderException;
import dev.kiln.provider.runpod.pods.RunPodPods;
import dev.kiln.support.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.stereotype.Service;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What Vibewave's {@code /api/runpod} pod routes do: each is one call to RunPod's own APIs through
 * Kiln's client ({@link RunPodPods}: REST for pods, templates and network volumes, GraphQL for GPU
 * types and the account), answering RunPod's objects as RunPod gives them. A pod created here has
 * Vibewave's defaults (its README, "RunPod Configuration"): an RTX 4090 or the next GPU type
 * available, the PyTorch image, 50 GB container disk, 24 GB memory, ports 22, 8080, 8188, 8888 and 11434.
 */
@Service
@ConditionalOnCompat("004")
class VibewavePods {
    static final String ORIGIN = "004";
    static final List<String> GPU_TYPES = List.of("NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 3090", "NVIDIA RTX A5000", "NVIDIA L40S");
    static final String IMAGE = "runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04";
    static final List<String> PORTS = List.of("22/tcp", "8080/http", "8188/http", "8888/http", "11434/http");
    /** The fields of a create request (snake_case, as the rest of Vibewave's API). */
    static final Set<String> CREATE_FIELDS = Set.of("name", "image_name", "gpu_type_id", "gpu_type_ids", "gpu_count", "cloud_type",
            "container_disk_in_gb", "volume_in_gb", "volume_mount_path", "min_memory_in_gb", "ports", "env", "template_id",
            "network_volume_id", "workflow_name");

    private final RunPodPods runpod;
    private final PodEndpoint endpoint;
    private final JobStore jobs;

    VibewavePods(RunPodPods runpod, PodEndpoint endpoint, JobStore jobs) {
        this.runpod = runpod;
        this.endpoint = endpoint;
        this.jobs = jobs;
    }

    /** Thrown for a bad request: answered 400 {@code {"detail"}}. */
    static final class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message, null, false, false);
        }
    }

    Map<String, Object> health() {
        Map<String, Object> out = new LinkedHashMap<>();
        RunPodPods.Endpoint e = runpod.endpoint();
        out.put("status", "healthy");
        out.put("service", "runpod");
        out.put("api_key_configured", e.configured());
        out.put("sandbox", endpoint.sandbox());
        JsonNode me = runpod.myself();
        out.put("account_id", me.path("id").asString(null));
        return out;
    }

    JsonNode account() {
        return runpod.myself();
    }

    /** The seed's statistics: pods running at RunPod, and Vibewave's requests (Kiln jobs made through this API) by state. */
    Map<String, Object> stats() {
        int active = 0;
        for (JsonNode p : runpod.listPods()) if ("RUNNING".equals(p.path("desiredStatus").asString())) active++;
        Map<String, Long> byStatus = jobs.countByStatus(ORIGIN);
        long pending = byStatus.getOrDefault("queued", 0L) + byStatus.getOrDefault("running", 0L);
        long completed = byStatus.getOrDefault("succeeded", 0L);
        long failed = byStatus.getOrDefault("failed", 0L) + byStatus.getOrDefault("timed_out", 0L) + byStatus.getOrDefault("canceled", 0L);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("active_pods", active);
        out.put("pending_requests", pending);
        out.put("completed_requests", completed);
        out.put("failed_requests", failed);
        out.put("total_requests", pending + completed + failed);
        return out;
    }

    JsonNode pods() {
        return runpod.listPods();
    }

    JsonNode pod(String id) {
        return runpod.getPod(id);
    }

    JsonNode create(JsonNode body) {
        if (body == null || body.isNull()) body = Json.object();
        if (!body.isObject()) throw new BadRequest("Invalid pod parameters: the body must be a JSON object");
        List<String> unknown = new ArrayList<>();
        for (String f : body.propertyNames()) if (!CREATE_FIELDS.contains(f)) unknown.add(f);
        if (!unknown.isEmpty()) throw new BadRequest("Invalid pod parameters: unknown field(s) " + unknown);
        ObjectNode in = Json.object();
        String workflow = text(body, "workflow_name");
        in.put("name", text(body, "name") != null ? text(body, "name") : (workflow != null ? workflow + "-pod" : "vibewave-pod"));
        String template = text(body, "template_id");
        if (template != null) in.put("templateId", template);
        else in.put("imageName", text(body, "image_name") != null ? text(body, "image_name") : IMAGE);
        ArrayNode gpus = in.putArray("gpuTypeIds");
        if (text(body, "gpu_type_id") != null) gpus.add(text(body, "gpu_type_id"));
        JsonNode list = body.path("gpu_type_ids");
        if (!list.isMissingNode() && !list.isNull()) {
            if (!list.isArray()) throw new BadRequest("Invalid pod parameters: gpu_type_ids must be a list of GPU type ids");
            list.forEach(n -> gpus.add(n.asString()));
        }
        if (gpus.isEmpty()) GPU_TYPES.forEach(gpus::add);
        in.put("gpuTypePriority", "custom");
        in.put("gpuCount", integer(body, "gpu_count", 1, 1, 8));
        String cloud = text(body, "cloud_type") == null ? "SECURE" : text(body, "cloud_type").toUpperCase(java.util.Locale.ROOT);
        if (!cloud.equals("SECURE") && !cloud.equals("COMMUNITY")) throw new BadRequest("Invalid pod parameters: cloud_type must be SECURE or COMMUNITY");
        in.put("cloudType", cloud);
        in.put("computeType", "GPU");
        in.put("containerDiskInGb", integer(body, "container_disk_in_gb", 50, 1, 4000));
        in.put("volumeInGb", integer(body, "volume_in_gb", 0, 0, 4000));
        if (text(body, "volume_mount_path") != null) in.put("volumeMountPath", text(body, "volume_mount_path"));
        in.put("minRAMPerGPU", integer(body, "min_memory_in_gb", 24, 1, 2000));
        ArrayNode ports = in.putArray("ports");
        JsonNode p = body.path("ports");
        if (p.isString()) {
            for (String s : p.asString().split(",")) if (!s.isBlank()) ports.add(port(s.trim()));
        } else if (p.isArray()) {
            p.forEach(n -> ports.add(port(n.asString())));
        } else if (!p.isMissingNode() && !p.isNull()) {
            throw new BadRequest("Invalid pod parameters: ports must be a list or a comma-separated string such as \"8188/http,22/tcp\"");
        }
        if (ports.isEmpty()) PORTS.forEach(ports::add);
        JsonNode env = body.path("env");
        if (env.isObject()) in.set("env", env);
        else if (!env.isMissingNode() && !env.isNull()) throw new BadRequest("Invalid pod parameters: env must be an object of strings");
        if (text(body, "network_volume_id") != null) in.put("networkVolumeId", text(body, "network_volume_id"));
        return runpod.createPod(in);
    }

    JsonNode start(String id) {
        runpod.getPod(id); // RunPod answers 400 for an unknown id here; Vibewave says 404
        return runpod.startPod(id);
    }

    JsonNode stop(String id) {
        runpod.getPod(id); // RunPod answers 400 for an unknown id here; Vibewave says 404
        return runpod.stopPod(id);
    }

    JsonNode restart(String id) {
        runpod.getPod(id); // RunPod answers 400 for an unknown id here; Vibewave says 404
        return runpod.restartPod(id);
    }

    Map<String, Object> terminate(String id) {
        runpod.getPod(id); // a 404 for an unknown pod, as the other pod routes
        runpod.terminatePod(id);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("success", true);
        out.put("pod_id", id);
        out.put("status", "TERMINATED");
        return out;
    }

    /** Where the pod can be reached: its public IP and port mappings, or 404 while it has none. */
    Map<String, Object> ip(String id) {
        JsonNode pod = runpod.getPod(id);
        String ip = pod.path("publicIp").asString("");
        if (ip.isBlank()) throw new ProviderException.NotFound(RunPodPods.ID, "Pod " + id + " has no IP address yet (status "
                + pod.path("desiredStatus").asString() + ")", 404);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pod_id", id);
        out.put("ip", ip);
        out.put("ports", pod.path("portMappings"));
        out.put("status", pod.path("desiredStatus").asString());
        return out;
    }

    JsonNode gpuTypes() {
        return runpod.gpuTypes();
    }

    /** RunPod's cloud types (its PodCreateInput {@code cloudType}, and {@code ALL} for GraphQL's deploy). */
    List<Map<String, String>> cloudTypes() {
        return List.of(
                Map.of("id", "SECURE", "name", "Secure Cloud", "description", "T3/T4 data centers run by RunPod's partners"),
                Map.of("id", "COMMUNITY", "name", "Community Cloud", "description", "Vetted hosts, lower prices"),
                Map.of("id", "ALL", "name", "All", "description", "Either, whichever has the GPU"));
    }

    JsonNode networkVolumes() {
        return runpod.networkVolumes();
    }

    JsonNode networkVolume(String id) {
        return runpod.networkVolume(id);
    }

    JsonNode templates() {
        return runpod.templates();
    }

    private static String port(String s) {
        String p = s.contains("/") ? s : s + "/http";
        if (!p.matches("\\d{1,5}/(http|tcp)")) throw new BadRequest("Invalid pod parameters: port '" + s + "' (want e.g. 8188/http or 22/tcp)");
        return p;
    }

    private static String text(JsonNode body, String f) {
        JsonNode n = body.get(f);
        if (n == null || n.isNull()) return null;
        if (!n.isString() || n.asString().isBlank()) throw new BadRequest("Invalid pod parameters: " + f + " must be a non-empty string");
        return n.asString().trim();
    }

    private static int integer(JsonNode body, String f, int def, int min, int max) {
        JsonNode n = body.get(f);
        if (n == null || n.isNull()) return def;
        if (!n.isIntegralNumber() || n.asLong() < min || n.asLong() > max) {
            throw new BadRequest("Invalid pod parameters: " + f + " must be an integer between " + min + " and " + max);
        }
        return n.asInt();
    }
}

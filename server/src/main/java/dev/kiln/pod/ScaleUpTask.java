package dev.kiln.pod;

import dev.kiln.provider.ProviderException;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Adds pods when the ComfyUI lane's oldest queued job has waited longer than
 * {@code KILN_PODS_SCALE_UP_AFTER}: one pod per {@code KILN_PODS_JOBS_PER_POD} waiting jobs, at
 * most {@code KILN_PODS_MAX}, and never past {@code KILN_PODS_MAX_SPEND_PER_HOUR} (the running and
 * starting pods' prices plus the dearest configured GPU type's for each new one). A stopped pod is
 * started again before a new one is created (it keeps its disk and starts sooner).
 */
@Component
class ScaleUpTask extends PodTask {
    /** The last hold recorded, so that a queue held for an hour logs one decision, not 720. */
    private volatile String lastHold;

    ScaleUpTask(PoolOps ops) {
        super(ops);
    }

    @Override
    int order() {
        return 1;
    }

    @Override
    void runTask() {
        PodProperties cfg = ops.props;
        PoolView v = ops.view();
        if (v.queued() == 0 || v.oldestWait().compareTo(cfg.scaleUpAfter()) < 0) {
            if (v.queued() == 0) lastHold = null;
            return;
        }
        int wanted = (int) Math.min(cfg.max(), (v.queued() + (long) cfg.jobsPerPod() - 1) / cfg.jobsPerPod());
        String why = v.queued() + " ComfyUI job(s) queued, the oldest waiting " + PoolOps.seconds(v.oldestWait()) + " (> "
                + PoolOps.seconds(cfg.scaleUpAfter()) + "); want " + wanted + " pod(s) (1 per " + cfg.jobsPerPod() + " jobs, at most "
                + cfg.max() + "), have " + v.pods();
        if (v.pods() >= wanted) {
            if (wanted == cfg.max() && v.queued() > (long) cfg.max() * cfg.jobsPerPod()) hold("max", "at the maximum of " + cfg.max() + " pods (KILN_PODS_MAX): " + why);
            return;
        }
        double spend = v.spendPerHr();
        List<PoolPod> stopped = ops.store.active().stream().filter(p -> PoolPod.STOPPED.equals(p.state()))
                .sorted(Comparator.comparing(PoolPod::stateChangedAt).reversed()).toList();
        int next = 0;
        for (int have = v.pods(); have < wanted; have++) {
            String step = why + "; adding pod " + (have - v.pods() + 1) + " of " + (wanted - v.pods());
            PoolPod resume = next < stopped.size() ? stopped.get(next) : null;
            Double price = resume != null ? Double.valueOf(resume.costPerHr()) : ops.pricePerPod();
            if (price == null) {
                hold("price", "RunPod did not say what " + cfg.gpuTypes() + " cost, so no pod is added under the spending cap: " + why);
                return;
            }
            if (spend + price > cfg.maxSpendPerHour() + 1e-9) {
                hold("cap", "the spending cap of " + PoolOps.money(cfg.maxSpendPerHour()) + "/h (KILN_PODS_MAX_SPEND_PER_HOUR) allows no more: "
                        + PoolOps.money(spend) + "/h now + " + PoolOps.money(price) + "/h for another pod; " + why);
                return;
            }
            try {
                if (resume != null) {
                    next++;
                    ops.runpod.startPod(resume.id());
                    ops.store.resumed(resume.id(), ops.clock.instant());
                    ops.decide("resume", resume.id(), "started the stopped pod again: " + step);
                } else {
                    JsonNode pod = ops.runpod.createPod(input());
                    double cost = pod.path("costPerHr").asDouble(price);
                    String gpu = pod.path("gpu").path("id").asString(pod.path("gpu").path("displayName").asString(null));
                    ops.store.insert(pod.path("id").asString(), pod.path("name").asString(), gpu, cost, ops.clock.instant());
                    ops.decide("scale_up", pod.path("id").asString(), "created a pod on " + gpu + " at " + PoolOps.money(cost) + "/h: " + step);
                    price = cost;
                }
            } catch (ProviderException e) {
                hold("error:" + e.getClass().getSimpleName(), "RunPod refused a new pod (" + e.getMessage() + "): " + why);
                return;
            }
            spend += price;
            lastHold = null;
        }
    }

    private void hold(String kind, String reason) {
        if (kind.equals(lastHold)) return;
        lastHold = kind;
        ops.decide(kind.startsWith("error") ? "error" : "hold", null, reason);
    }

    /** A PodCreateInput (runpod/docs api-reference/openapi.json, components.schemas.PodCreateInput) from the template settings. */
    private ObjectNode input() {
        PodProperties cfg = ops.props;
        ObjectNode o = dev.kiln.support.Json.object();
        o.put("name", "kiln-comfyui-" + UUID.randomUUID().toString().substring(0, 8));
        if (cfg.templateId() != null) o.put("templateId", cfg.templateId());
        else o.put("imageName", cfg.image());
        var gpus = o.putArray("gpuTypeIds");
        cfg.gpuTypes().forEach(gpus::add);
        o.put("gpuTypePriority", "custom");
        o.put("gpuCount", 1);
        o.put("cloudType", cfg.cloudType());
        o.put("computeType", "GPU");
        o.put("containerDiskInGb", cfg.containerDiskGb());
        o.put("minRAMPerGPU", cfg.minMemoryGb());
        var ports = o.putArray("ports");
        cfg.ports().forEach(ports::add);
        o.put("supportPublicIp", true);
        if (cfg.networkVolumeId() != null) o.put("networkVolumeId", cfg.networkVolumeId());
        return o;
    }
}

package dev.kiln.api;

import dev.kiln.pod.PodPool;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

@Tag(name = "Admin: pod pool", description = "Kiln's own ComfyUI backends on RunPod pods, and every decision the pool took")
@RestController
@RequestMapping("/v1/admin/pods")
class AdminPodController {
    private final PodPool pool;

    AdminPodController(PodPool pool) {
        this.pool = pool;
    }

    @Operation(summary = "The pod pool: its settings, the ComfyUI queue it sees, its pods and its last 200 decisions with their reasons",
            description = "Pods are starting, ready (a ComfyUI account taking jobs), stopped (idle) or terminated. Decisions: scale_up, resume, "
                    + "ready, replace (a pod died: its jobs went back to the queue), stop, terminate, hold (the maximum or the spending cap "
                    + "forbade a pod), error. idle_cost is what the stopped pods' idle time cost, in dollars.")
    @GetMapping
    PodPool.Status status(Caller caller) {
        if (!caller.isAdmin()) throw new KilnException(ErrorCode.FORBIDDEN, "only an admin may see the pod pool");
        return pool.status(200);
    }
}

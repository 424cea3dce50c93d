package dev.kiln.compat.runpodworker;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.compat.StatusRoute;
import dev.kiln.user.Caller;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;

/**
 * {@code GET /status/{id}} for requests of the RunPod worker format: the seed handler's bare
 * output ({@code completed} with its results, {@code error}, {@code timeout}; {@code in_queue} or
 * {@code in_progress} while it runs).
 */
@Component
@ConditionalOnCompat("001")
class WorkerStatusRoute implements StatusRoute {
    private final WorkerJobs jobs;

    WorkerStatusRoute(WorkerJobs jobs) {
        this.jobs = jobs;
    }

    @Override
    public String origin() {
        return WorkerJobs.ORIGIN;
    }

    @Override
    public ResponseEntity<?> status(Caller caller, String id) {
        try {
            return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(jobs.bare(jobs.findAny(caller, id)));
        } catch (WorkerException e) {
            return ResponseEntity.status(e.status()).contentType(MediaType.APPLICATION_JSON).body(WorkerJobs.error(e.getMessage()));
        }
    }
}

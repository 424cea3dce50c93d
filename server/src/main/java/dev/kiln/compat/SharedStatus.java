package dev.kiln.compat;

import dev.kiln.job.JobService;
import dev.kiln.run.RunService;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /status/{id}}, which the WaveSpeed batch generator (its runs), the RunPod worker
 * format (its jobs) and MediaGen (its tasks) all serve: the id names a run or a job, whose
 * {@code origin} says which façade created it, and that façade answers in its own shape.
 */
@Tag(name = "Seed APIs: shared paths", description = "Paths several seed systems share; each object answers in the shape of the API that created it.")
@RestController
class SharedStatus {
    private final Map<String, StatusRoute> routes;
    private final RunService runs;
    private final JobService jobs;

    SharedStatus(List<StatusRoute> routes, RunService runs, JobService jobs) {
        this.routes = routes.stream().collect(Collectors.toMap(StatusRoute::origin, Function.identity()));
        this.runs = runs;
        this.jobs = jobs;
    }

    @Operation(summary = "Status of a seed API's run, job or task", description = "Answers in the shape of the seed API that created it (WaveSpeed batch generator, RunPod worker format, MediaGen).")
    @GetMapping("/status/{id}")
    ResponseEntity<?> status(Caller caller, @PathVariable String id) {
        Optional<String> origin = runs.originOf(id).or(() -> jobs.originOf(id));
        StatusRoute route = origin.map(routes::get).orElse(null);
        if (route == null) throw KilnException.notFound("run or job", id);
        return route.status(caller, id);
    }
}

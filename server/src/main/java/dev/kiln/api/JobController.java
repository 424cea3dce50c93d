package dev.kiln.api;

import dev.kiln.job.Job;
import dev.kiln.job.JobService;
import dev.kiln.job.JobStatus;
import dev.kiln.job.JobStore;
import dev.kiln.support.FieldError;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;

@Tag(name = "Jobs", description = "One generation each")
@RestController
@RequestMapping("/v1/jobs")
class JobController {
    private final JobService jobs;
    private final Views views;
    private final Idempotency idempotency;
    private final JsonMapper json;

    JobController(JobService jobs, Views views, Idempotency idempotency, JsonMapper json) {
        this.jobs = jobs;
        this.views = views;
        this.idempotency = idempotency;
        this.json = json;
    }

    @Operation(summary = "Submit a job", description = "Validates the request completely (every bad field is listed), stores input images, and queues the job. Answers 202 with the job. Idempotency-Key makes a retried POST return the first answer.")
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<String> create(Caller caller, @RequestBody byte[] body,
                                  @RequestHeader(name = "Idempotency-Key", required = false) String key) {
        var replay = idempotency.replay(caller.id(), key, "POST /v1/jobs", body);
        if (replay.isPresent()) return replay.get();
        JobService.Plan plan = jobs.prepare(caller, RequestBodies.parse(body));
        return idempotency.run(caller.id(), key, "POST /v1/jobs", body, 202,
                () -> json.writeValueAsString(views.job(jobs.insert(plan).getFirst())));
    }

    @Operation(summary = "Get a job")
    @GetMapping("/{id}")
    Views.JobView get(Caller caller, @PathVariable String id) {
        return views.job(jobs.get(caller, id));
    }

    @Operation(summary = "List jobs", description = "Newest first; pass next_cursor as cursor for the next page.")
    @GetMapping
    Page<Views.JobView> list(Caller caller, @RequestParam(required = false) String status,
                             @RequestParam(required = false) String model, @RequestParam(required = false) String run,
                             @RequestParam(required = false) String cursor, @RequestParam(required = false) Integer limit) {
        JobStatus st = null;
        if (status != null) {
            try {
                st = JobStatus.of(status);
            } catch (IllegalArgumentException e) {
                throw KilnException.validation(List.of(new FieldError("status",
                        "must be one of queued, running, succeeded, failed, canceled, timed_out")));
            }
        }
        int n = Cursor.limit(limit);
        List<Job> page = jobs.list(caller, new JobStore.Filter(null, st, model, run), Cursor.decode(cursor), n + 1);
        boolean more = page.size() > n;
        List<Job> items = more ? page.subList(0, n) : page;
        return new Page<>(views.jobs(items, true), more ? Cursor.encode(items.getLast().id()) : null);
    }

    @Operation(summary = "Cancel a job", description = "A terminal job is returned unchanged.")
    @PostMapping("/{id}/cancel")
    Views.JobView cancel(Caller caller, @PathVariable String id) {
        return views.job(jobs.cancel(caller, id));
    }

    @Operation(summary = "Delete a job and its outputs", description = "An active job is cancelled first.")
    @DeleteMapping("/{id}")
    ResponseEntity<Void> delete(Caller caller, @PathVariable String id) {
        jobs.delete(caller, id);
        return ResponseEntity.noContent().build();
    }

    @Operation(summary = "A job's history", description = "Every status change with its time and reason.")
    @GetMapping("/{id}/history")
    List<JobStore.HistoryEntry> history(Caller caller, @PathVariable String id) {
        return jobs.history(jobs.get(caller, id));
    }
}

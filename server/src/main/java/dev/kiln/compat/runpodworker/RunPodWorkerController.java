package dev.kiln.compat.runpodworker;

import dev.kiln.api.RequestBodies;
import dev.kiln.catalog.Model;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.compat.JobWaiter;
import dev.kiln.job.Job;
import dev.kiln.support.Json;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import tools.jackson.databind.node.ObjectNode;

/**
 * RunPod's serverless API (docs.runpod.io, serverless/endpoints/operation-reference) for
 * worker-comfyui requests, so RunPod clients and SDKs work against Kiln with only the base URL
 * changed: {@code /v2/{endpoint}/run|runsync|status|cancel|health|purge-queue} in RunPod's envelope;
 * and the seed's handler output bare at {@code POST /run}, {@code POST /runsync} and
 * {@code GET /status/{id}} ({@link WorkerStatusRoute}). {@code Authorization: Bearer} takes a Kiln API key.
 */
@Tag(name = "Seed API: RunPod worker format", description = "RunPod serverless endpoints running the worker-comfyui handler: "
        + "{\"input\":{\"workflow\":{…},\"images\":[{\"name\",\"image\"}]}} in, {\"status\":\"completed\",\"results\":[{\"filename\",\"image\"}]} out. "
        + "`{endpoint}` names a ComfyUI backend pool (`default`, or KILN_RUNPOD_ENDPOINTS).")
@RestController
@ConditionalOnCompat("001")
class RunPodWorkerController {
    /** RunPod's body limits: 10 MB for /run, 20 MB for /runsync (docs.runpod.io, operation-reference). */
    static final int RUN_LIMIT = 10_000_000, RUNSYNC_LIMIT = 20_000_000;
    /** How long /runsync waits: 90 s unless {@code ?wait=} says otherwise, from 1 s to 5 min. */
    static final long DEFAULT_WAIT = 90_000, MIN_WAIT = 1_000, MAX_WAIT = 300_000;
    static final String EXAMPLE = """
            {"input":{"workflow":{"40":{"inputs":{"image":"image.jpg"},"class_type":"LoadImage"}},
             "images":[{"name":"image.jpg","image":"data:image/jpeg;base64,/9j/4AAQ..."}]}}""";

    private final WorkerJobs jobs;
    private final JobWaiter waiter;
    private final Executor render = Executors.newVirtualThreadPerTaskExecutor();

    RunPodWorkerController(WorkerJobs jobs, JobWaiter waiter) {
        this.jobs = jobs;
        this.waiter = waiter;
    }

    @Operation(summary = "Queue a worker-comfyui request (RunPod /run)", description = "Answers {\"id\",\"status\":\"IN_QUEUE\"} at once; "
            + "poll GET /v2/{endpoint}/status/{id}. Body at most 10 MB.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = EXAMPLE))))
    @PostMapping(path = "/v2/{endpoint}/run", produces = MediaType.APPLICATION_JSON_VALUE)
    ObjectNode run(Caller caller, @PathVariable String endpoint, @RequestBody(required = false) byte[] body) {
        Model m = jobs.endpoint(endpoint);
        Job j = jobs.submit(caller, m, input(body, RUN_LIMIT, "/run"));
        return Json.object().put("id", j.id()).put("status", WorkerJobs.runPodStatus(j.status()));
    }

    @Operation(summary = "Run a worker-comfyui request and wait (RunPod /runsync)", description = "Waits until the request ends or "
            + "`wait` ms pass (default 90000, from 1000 to 300000), then answers its status envelope: COMPLETED with `output`, or "
            + "IN_QUEUE/IN_PROGRESS to poll further. Body at most 20 MB.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = EXAMPLE))))
    @PostMapping(path = "/v2/{endpoint}/runsync", produces = MediaType.APPLICATION_JSON_VALUE)
    DeferredResult<ResponseEntity<ObjectNode>> runsync(Caller caller, @PathVariable String endpoint,
                                                       @Parameter(description = "how long to wait, in ms (1000 to 300000)")
                                                       @RequestParam(required = false) String wait,
                                                       @RequestBody(required = false) byte[] body) {
        Model m = jobs.endpoint(endpoint);
        long ms = waitMillis(wait);
        Job j = jobs.submit(caller, m, input(body, RUNSYNC_LIMIT, "/runsync"));
        return after(caller, j, ms, jobs::envelope);
    }

    @Operation(summary = "A request's status (RunPod /status)", description = "{id, status, delayTime, executionTime, output?, error?}; "
            + "status is IN_QUEUE, IN_PROGRESS, COMPLETED, FAILED, CANCELLED or TIMED_OUT.")
    @GetMapping(path = "/v2/{endpoint}/status/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    ObjectNode status(Caller caller, @PathVariable String endpoint, @PathVariable String id) {
        return jobs.envelope(jobs.find(caller, jobs.endpoint(endpoint), id));
    }

    @Operation(summary = "Cancel a request (RunPod /cancel)", description = "Queued or running; answers {id, status}.")
    @PostMapping(path = "/v2/{endpoint}/cancel/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    ObjectNode cancel(Caller caller, @PathVariable String endpoint, @PathVariable String id) {
        Job j = jobs.cancel(caller, jobs.endpoint(endpoint), id);
        return Json.object().put("id", j.id()).put("status", WorkerJobs.runPodStatus(j.status()));
    }

    @Operation(summary = "The endpoint's jobs and workers (RunPod /health)", description = "{jobs:{completed, failed, inProgress, inQueue, "
            + "retried}, workers:{idle, running}}: the caller's requests on this endpoint, and the ready backend accounts of its pool.")
    @GetMapping(path = "/v2/{endpoint}/health", produces = MediaType.APPLICATION_JSON_VALUE)
    ObjectNode health(Caller caller, @PathVariable String endpoint) {
        return jobs.health(caller, jobs.endpoint(endpoint));
    }

    @Operation(summary = "Drop the queued requests (RunPod /purge-queue)", description = "Cancels the caller's queued requests on this "
            + "endpoint; running ones go on. Answers {removed, status:\"completed\"}.")
    @PostMapping(path = "/v2/{endpoint}/purge-queue", produces = MediaType.APPLICATION_JSON_VALUE)
    ObjectNode purgeQueue(Caller caller, @PathVariable String endpoint) {
        int n = jobs.purgeQueue(caller, jobs.endpoint(endpoint));
        return Json.object().put("removed", n).put("status", "completed");
    }

    @Operation(summary = "Queue a request; the seed handler's own answer", description = "The `default` endpoint without RunPod's envelope: "
            + "{\"id\",\"status\":\"in_queue\"}; GET /status/{id} answers the handler's output when it ends.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = EXAMPLE))))
    @PostMapping(path = "/run", produces = MediaType.APPLICATION_JSON_VALUE)
    ObjectNode runBare(Caller caller, @RequestBody(required = false) byte[] body) {
        Job j = jobs.submit(caller, jobs.endpoint(WorkerEndpoints.DEFAULT), input(body, RUN_LIMIT, "/run"));
        return jobs.bare(j);
    }

    @Operation(summary = "Run a request and wait; the seed handler's own answer", description = "The `default` endpoint without RunPod's "
            + "envelope: {\"status\":\"completed\",\"results\":[{\"filename\",\"image\"}]}, {\"status\":\"error\",\"message\"} or "
            + "{\"status\":\"timeout\",\"message\"}; still running after `wait` ms (default 90000): {\"id\",\"status\":\"in_progress\"}.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = EXAMPLE))))
    @PostMapping(path = "/runsync", produces = MediaType.APPLICATION_JSON_VALUE)
    DeferredResult<ResponseEntity<ObjectNode>> runsyncBare(Caller caller,
                                                           @Parameter(description = "how long to wait, in ms (1000 to 300000)")
                                                           @RequestParam(required = false) String wait,
                                                           @RequestBody(required = false) byte[] body) {
        long ms = waitMillis(wait);
        Job j = jobs.submit(caller, jobs.endpoint(WorkerEndpoints.DEFAULT), input(body, RUNSYNC_LIMIT, "/runsync"));
        return after(caller, j, ms, jobs::bare);
    }

    // ---- helpers

    private static WorkerInput input(byte[] body, int limit, String op) {
        if (body != null && body.length > limit) {
            throw new WorkerException(413, "request body exceeds the " + (limit / 1_000_000) + " MB limit of " + op);
        }
        if (body == null || body.length == 0) throw WorkerException.badRequest("the request body must be a JSON object with 'input'");
        return WorkerInput.parse(RequestBodies.parse(body));
    }

    static long waitMillis(String wait) {
        if (wait == null || wait.isBlank()) return DEFAULT_WAIT;
        long ms;
        try {
            ms = Long.parseLong(wait.strip());
        } catch (NumberFormatException e) {
            throw WorkerException.badRequest("wait must be a number of milliseconds (" + MIN_WAIT + " to " + MAX_WAIT + ")");
        }
        return Math.max(MIN_WAIT, Math.min(MAX_WAIT, ms));
    }

    /** Answers once the job ends or {@code ms} pass, whichever is first, without holding a request thread. */
    private DeferredResult<ResponseEntity<ObjectNode>> after(Caller caller, Job j, long ms, Function<Job, ObjectNode> shape) {
        DeferredResult<ResponseEntity<ObjectNode>> result = new DeferredResult<>(ms + 60_000);
        waiter.whenDone(List.of(j.id()), Duration.ofMillis(ms)).thenRunAsync(() -> {
            try {
                result.setResult(ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(shape.apply(jobs.reload(caller, j.id()))));
            } catch (RuntimeException e) {
                result.setErrorResult(e);
            }
        }, render);
        return result;
    }
}

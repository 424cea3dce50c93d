package dev.kiln.compat.vibewave;

import dev.kiln.api.RequestBodies;
import dev.kiln.catalog.Model;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.job.Job;
import dev.kiln.support.Json;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Vibewave's workflow API under {@code /api/runpod}: the queue of workflow requests (Kiln jobs),
 * their status and history, cancelling, and image generation (synchronous, asynchronous, several
 * at once). {@code workflow_name} ({@code comfyui_image_qwen}) names a catalogue model.
 */
@Tag(name = "Seed API: Vibewave", description = "Vibewave's workflow queue and Qwen image generation (/api/runpod/workflows, "
        + "/api/runpod/generate-*, /api/qwen): WorkflowInput in; WorkflowResult, ComfyUIRequest and QueueStatus out; "
        + "errors as {\"detail\"} with 400, 404, 408 (a synchronous call that outlived its wait) or 500.")
@RestController
@RequestMapping(path = "/api/runpod", produces = MediaType.APPLICATION_JSON_VALUE)
@ConditionalOnCompat("004")
class WorkflowController {
    static final String INPUT = """
            {"prompt":"A beautiful landscape with mountains and a lake","negative_prompt":"blurry, low quality, distorted",
             "width":1024,"height":1024,"seed":12345,"steps":4}""";
    static final String QUEUE = """
            {"workflow_name":"comfyui_image_qwen","inputs":{"prompt":"A beautiful landscape","negative_prompt":"blurry, low quality",
             "width":1024,"height":1024,"seed":12345,"steps":4}}""";

    private final VibewaveJobs jobs;
    private final SyncAnswers sync;

    WorkflowController(VibewaveJobs jobs, SyncAnswers sync) {
        this.jobs = jobs;
        this.sync = sync;
    }

    @Operation(summary = "Queue a workflow", description = "{workflow_name, inputs: WorkflowInput}; answers the ComfyUIRequest (status pending).",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = QUEUE))))
    @PostMapping("/workflows/queue")
    ObjectNode queue(Caller caller, @RequestBody(required = false) byte[] body) {
        JsonNode n = parse(body);
        for (String f : n.propertyNames()) {
            if (!Set.of("workflow_name", "inputs", "id").contains(f)) {
                throw VibewaveException.badRequest(WorkflowInput.INVALID + ": unknown field '" + f + "'; give workflow_name and inputs");
            }
        }
        JsonNode name = n.get("workflow_name");
        if (name != null && !name.isNull() && !name.isString()) throw VibewaveException.badRequest(WorkflowInput.INVALID + ": workflow_name must be a string");
        Model m = jobs.workflow(name == null || name.isNull() ? null : name.asString());
        WorkflowInput in = WorkflowInput.parse(n.get("inputs"), Set.of(), true);
        return jobs.request(jobs.submit(caller, m, in), sync.base());
    }

    @Operation(summary = "A workflow request's status", description = "The ComfyUIRequest: status pending, running, completed, failed or cancelled; "
            + "result.files when completed.")
    @GetMapping("/workflows/status/{request_id}")
    ObjectNode status(Caller caller, @PathVariable("request_id") String id) {
        return jobs.request(jobs.find(caller, id), sync.base());
    }

    @Operation(summary = "The queue", description = "QueueStatus: active pods, and the caller's pending (queued or running), completed and failed "
            + "requests, newest first, at most 100 of each.")
    @GetMapping("/workflows/queue/status")
    ObjectNode queueStatus(Caller caller) {
        return jobs.queueStatus(caller);
    }

    @Operation(summary = "Workflow history", description = "The caller's requests, newest first, as ComfyUIRequests.")
    @GetMapping("/workflows/history")
    ArrayNode history(Caller caller, @Parameter(description = "at most this many (1 to 1000, default 50)") @RequestParam(required = false) String limit,
                      @Parameter(description = "pending, running, completed, failed or cancelled") @RequestParam(required = false) String status) {
        int n = 50;
        if (limit != null) {
            try {
                n = Integer.parseInt(limit.strip());
            } catch (NumberFormatException e) {
                throw VibewaveException.badRequest("limit must be an integer from 1 to 1000");
            }
            if (n < 1 || n > 1000) throw VibewaveException.badRequest("limit must be an integer from 1 to 1000");
        }
        String base = sync.base();
        ArrayNode out = Json.MAPPER.createArrayNode();
        jobs.history(caller, status == null || status.isBlank() ? null : status.strip(), n).forEach(j -> out.add(jobs.request(j, base)));
        return out;
    }

    @Operation(summary = "Cancel a workflow request", description = "Queued or running; a finished request stays as it is.")
    @DeleteMapping("/workflows/{request_id}")
    ObjectNode cancel(Caller caller, @PathVariable("request_id") String id) {
        Job j = jobs.cancel(caller, id);
        ObjectNode o = Json.object();
        o.put("success", j.status() == dev.kiln.job.JobStatus.CANCELED);
        o.put("request_id", j.id());
        o.put("status", VibewaveJobs.status(j.status()));
        o.put("message", j.status() == dev.kiln.job.JobStatus.CANCELED ? "Request cancelled" : "Request already finished");
        return o;
    }

    @Operation(summary = "Generate an image and wait", description = "WorkflowInput (plus workflow_name, default comfyui_image_qwen); answers the "
            + "WorkflowResult when it ends, or 408 after KILN_VIBEWAVE_WAIT (or `timeout` seconds) while it goes on.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = INPUT))))
    @ApiResponse(responseCode = "408", description = "The generation outlived the wait; it goes on (its status stays readable)")
    @ApiResponse(responseCode = "200", description = "The result")
    @PostMapping("/generate-image")
    DeferredResult<ResponseEntity<Object>> generate(Caller caller, @RequestBody(required = false) byte[] body,
                                                    @Parameter(description = "seconds to wait (Kiln's)") @RequestParam(required = false) Integer timeout) {
        JsonNode n = parse(body);
        Model m = jobs.workflow(name(n));
        var wait = sync.wait(timeout);
        String base = sync.base();
        Job j = jobs.submit(caller, m, WorkflowInput.parse(n, Set.of("workflow_name"), true));
        return sync.after(caller, List.of(j), wait, list -> jobs.result(list.getFirst(), base));
    }

    @Operation(summary = "Generate an image in the background", description = "Answers {request_id, status: pending, workflow_name} at once; "
            + "GET /api/runpod/workflows/status/{request_id} follows it.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = INPUT))))
    @PostMapping("/generate-image-async")
    ObjectNode generateAsync(Caller caller, @RequestBody(required = false) byte[] body) {
        JsonNode n = parse(body);
        Model m = jobs.workflow(name(n));
        Job j = jobs.submit(caller, m, WorkflowInput.parse(n, Set.of("workflow_name"), true));
        return accepted(j, jobs);
    }

    @Operation(summary = "Generate several images and wait", description = "{prompts: [..], workflow_name?, and the WorkflowInput settings for all} "
            + "or {inputs: [WorkflowInput, ..]}; answers {success, results: [WorkflowResult], total, successful, failed} when all end.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = "{\"prompts\":[\"A red fox\",\"A blue bird\"],\"width\":1024,\"height\":1024,\"steps\":4}"))))
    @ApiResponse(responseCode = "408", description = "The generation outlived the wait; it goes on (its status stays readable)")
    @ApiResponse(responseCode = "200", description = "The result")
    @PostMapping("/generate-multiple-images")
    DeferredResult<ResponseEntity<Object>> generateMany(Caller caller, @RequestBody(required = false) byte[] body,
                                                        @Parameter(description = "seconds to wait (Kiln's)") @RequestParam(required = false) Integer timeout) {
        JsonNode n = parse(body);
        Model m = jobs.workflow(name(n));
        var wait = sync.wait(timeout);
        String base = sync.base();
        List<Job> started;
        if (n.has("inputs")) {
            JsonNode list = n.get("inputs");
            if (!list.isArray() || list.isEmpty() || list.size() > 100) {
                throw VibewaveException.badRequest(WorkflowInput.INVALID + ": inputs must be a list of 1 to 100 WorkflowInputs");
            }
            for (String f : n.propertyNames()) {
                if (!f.equals("inputs") && !f.equals("workflow_name")) throw VibewaveException.badRequest(WorkflowInput.INVALID + ": unknown field '" + f + "'");
            }
            List<WorkflowInput> ins = new ArrayList<>();
            for (JsonNode i : list) ins.add(WorkflowInput.parse(i, Set.of(), true));
            started = new ArrayList<>();
            for (WorkflowInput i : ins) started.add(jobs.submit(caller, m, i));
        } else {
            started = batch(caller, m, n, jobs);
        }
        return sync.after(caller, started, wait, list -> batchResult(list, base, jobs));
    }

    // ---- shared with the Qwen routes

    static JsonNode parse(byte[] body) {
        if (body == null || body.length == 0) throw VibewaveException.badRequest(WorkflowInput.INVALID + ": the body must be a JSON object");
        JsonNode n = RequestBodies.parse(body);
        if (!n.isObject()) throw VibewaveException.badRequest(WorkflowInput.INVALID + ": the body must be a JSON object");
        return n;
    }

    private static String name(JsonNode n) {
        JsonNode v = n.get("workflow_name");
        if (v == null || v.isNull()) return null;
        if (!v.isString()) throw VibewaveException.badRequest(WorkflowInput.INVALID + ": workflow_name must be a string");
        return v.asString();
    }

    /** {@code {prompts: [..], …settings}} as one run of jobs. */
    static List<Job> batch(Caller caller, Model m, JsonNode n, VibewaveJobs jobs) {
        JsonNode ps = n.get("prompts");
        if (ps == null || !ps.isArray() || ps.isEmpty() || ps.size() > 100) {
            throw VibewaveException.badRequest(WorkflowInput.INVALID + ": prompts must be a list of 1 to 100 prompts");
        }
        List<String> prompts = new ArrayList<>();
        for (JsonNode p : ps) {
            if (!p.isString() || p.asString().isBlank()) throw VibewaveException.badRequest(WorkflowInput.INVALID + ": each prompt must be a non-empty string");
            prompts.add(p.asString());
        }
        ObjectNode settings = ((ObjectNode) n).deepCopy();
        settings.remove("prompts");
        WorkflowInput in = WorkflowInput.parse(settings, Set.of("workflow_name"), false);
        return jobs.submitBatch(caller, m, in, prompts, n);
    }

    static ObjectNode batchResult(List<Job> list, String base, VibewaveJobs jobs) {
        ObjectNode o = Json.object();
        ArrayNode results = o.putArray("results");
        int ok = 0;
        for (Job j : list) {
            results.add(jobs.result(j, base));
            if (j.status() == dev.kiln.job.JobStatus.SUCCEEDED) ok++;
        }
        o.put("success", ok == list.size());
        o.put("total", list.size());
        o.put("successful", ok);
        o.put("failed", list.size() - ok);
        if (!list.isEmpty() && list.getFirst().runId() != null) o.put("batch_id", list.getFirst().runId());
        return o;
    }

    static ObjectNode accepted(Job j, VibewaveJobs jobs) {
        ObjectNode o = Json.object();
        o.put("request_id", j.id());
        o.put("status", VibewaveJobs.status(j.status()));
        o.put("workflow_name", jobs.summary(j).get("workflow_name").asString());
        o.put("message", "Generation started");
        return o;
    }
}

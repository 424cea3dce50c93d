package dev.kiln.compat.vibewave;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.job.Job;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import java.util.Set;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Vibewave's Qwen image generation ({@code /api/qwen}) on the catalogue's {@code qwen-image}:
 * its presets and example prompts are the model's own.
 */
@Tag(name = "Seed API: Vibewave")
@RestController
@RequestMapping(path = "/api/qwen", produces = MediaType.APPLICATION_JSON_VALUE)
@ConditionalOnCompat("004")
class QwenController {
    static final String GENERATE = """
            {"prompt":"A majestic dragon soaring through clouds above a medieval castle, fantasy art style, highly detailed, epic lighting",
             "width":1024,"height":1024,"steps":4}""";
    static final Set<String> QWEN_FIELDS = Set.of("cfg_scale", "preset");

    private final VibewaveJobs jobs;
    private final SyncAnswers sync;

    QwenController(VibewaveJobs jobs, SyncAnswers sync) {
        this.jobs = jobs;
        this.sync = sync;
    }

    @Operation(summary = "Generate a Qwen image and wait", description = "{prompt, negative_prompt?, width?, height?, steps?, seed?, cfg_scale?, "
            + "preset?}; answers the WorkflowResult when it ends, or 408 after KILN_VIBEWAVE_WAIT (or `timeout` seconds) while it goes on.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = GENERATE))))
    @ApiResponse(responseCode = "408", description = "The generation outlived the wait; it goes on (its status stays readable)")
    @ApiResponse(responseCode = "200", description = "The result")
    @PostMapping("/generate")
    DeferredResult<ResponseEntity<Object>> generate(Caller caller, @RequestBody(required = false) byte[] body,
                                                    @Parameter(description = "seconds to wait (Kiln's)") @RequestParam(required = false) Integer timeout) {
        JsonNode n = WorkflowController.parse(body);
        var wait = sync.wait(timeout);
        String base = sync.base();
        Job j = jobs.submit(caller, jobs.workflow(null), WorkflowInput.parse(n, QWEN_FIELDS, true));
        return sync.after(caller, List.of(j), wait, list -> jobs.result(list.getFirst(), base));
    }

    @Operation(summary = "Generate a Qwen image in the background", description = "Answers {request_id, status: pending} at once; "
            + "GET /api/qwen/status/{request_id} follows it.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = "{\"prompt\":\"A futuristic cyberpunk cityscape at night with neon lights\",\"width\":1024,\"height\":1024}"))))
    @PostMapping("/generate-async")
    ObjectNode generateAsync(Caller caller, @RequestBody(required = false) byte[] body) {
        JsonNode n = WorkflowController.parse(body);
        Job j = jobs.submit(caller, jobs.workflow(null), WorkflowInput.parse(n, QWEN_FIELDS, true));
        return WorkflowController.accepted(j, jobs);
    }

    @Operation(summary = "A Qwen generation's status", description = "The ComfyUIRequest: status pending, running, completed, failed or "
            + "cancelled; result.files when completed.")
    @GetMapping("/status/{request_id}")
    ObjectNode status(Caller caller, @PathVariable("request_id") String id) {
        return jobs.request(jobs.find(caller, id), sync.base());
    }

    @Operation(summary = "Generate several Qwen images and wait", description = "{prompts: [..], and the settings for all}; answers "
            + "{success, results: [WorkflowResult], total, successful, failed, batch_id} when all end.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    examples = @ExampleObject(value = """
                            {"prompts":["A serene mountain landscape with a crystal clear lake","A futuristic cityscape with flying cars and neon lights",
                             "An abstract digital art piece with vibrant colors"],"width":1024,"height":1024,"steps":4}"""))))
    @ApiResponse(responseCode = "408", description = "The generation outlived the wait; it goes on (its status stays readable)")
    @ApiResponse(responseCode = "200", description = "The result")
    @PostMapping("/batch-generate")
    DeferredResult<ResponseEntity<Object>> batch(Caller caller, @RequestBody(required = false) byte[] body,
                                                 @Parameter(description = "seconds to wait (Kiln's)") @RequestParam(required = false) Integer timeout) {
        JsonNode n = WorkflowController.parse(body);
        if (n.has("workflow_name")) throw VibewaveException.badRequest(WorkflowInput.INVALID + ": unknown field 'workflow_name'");
        var wait = sync.wait(timeout);
        String base = sync.base();
        List<Job> started = WorkflowController.batch(caller, jobs.workflow(null), n, jobs);
        return sync.after(caller, started, wait, list -> WorkflowController.batchResult(list, base, jobs));
    }

    @Operation(summary = "Qwen presets and settings", description = "The speed presets (fast, quality, ultra), default settings and limits, from the catalogue's qwen-image.")
    @GetMapping("/presets")
    ObjectNode presets() {
        return jobs.presets(jobs.workflow(null));
    }

    @Operation(summary = "Example prompts and tips", description = "From the catalogue's qwen-image.")
    @GetMapping("/examples")
    ObjectNode examples() {
        return jobs.examples(jobs.workflow(null));
    }

    @Operation(summary = "Qwen service health", description = "healthy while a backend account that runs qwen-image is ready.")
    @GetMapping("/health")
    ObjectNode health() {
        return jobs.health(jobs.workflow(null));
    }
}

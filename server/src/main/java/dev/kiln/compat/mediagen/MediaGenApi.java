package dev.kiln.compat.mediagen;

import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.api.RequestBodies;
import dev.kiln.catalog.Catalog;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.job.Job;
import dev.kiln.run.Run;
import dev.kiln.run.RunService;
import dev.kiln.support.Json;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.core.io.InputStreamResource;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.multipart.MultipartHttpServletRequest;
import org.springframework.web.util.WebUtils;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * MediaGen Universal WebUI's backend API (anisora, phr00t, pony, flux): {@code POST /generate},
 * {@code GET /results/{task_id}}, {@code GET /preview/{task_id}}, {@code GET /gallery},
 * {@code DELETE /gallery/{task_id}}; {@code GET /status/{task_id}} is {@link MediaGenStatus}.
 * A thin translation: the payload becomes a typed core request ({@link GeneratePayload}), each
 * task is a run of the core, and answers are rendered by {@link Tasks} and {@link MediaGenErrors}.
 * README.md ("Coming from MediaGen") describes the mapping.
 */
@Tag(name = "Seed API: MediaGen", description = "MediaGen Universal WebUI's generation API: /generate, /status, /results, /preview, "
        + "/gallery, /auth/session, /admin/session. Errors are {status:\"error\", error, code, details}.")
@ConditionalOnCompat("003")
@RestController
class MediaGenApi {
    private static final String ERROR = "{\"status\":\"error\",\"error\":\"…\",\"code\":\"…\",\"details\":…}";

    private final Catalog catalog;
    private final RunService runs;
    private final Tasks tasks;
    private final AssetService assets;

    MediaGenApi(Catalog catalog, RunService runs, Tasks tasks, AssetService assets) {
        this.catalog = catalog;
        this.runs = runs;
        this.tasks = tasks;
        this.assets = assets;
    }

    @Operation(summary = "Start a generation (MediaGen GenerationPayload)",
            description = "JSON, or a multipart form whose files are reference_image, first_frame_image, last_frame_image. "
                    + "Images may be raw base64, a data URI, an http(s) URL or a file. Answers {job_id, task_id, status:\"queued\", …}; "
                    + "poll GET /status/{job_id}. {} → 400 missing_required_fields; a mode that needs an image without it → 400 "
                    + "missing_reference_image; a locked value (anisora steps 8, phr00t steps 4 and cfg_scale 1.0) → 422; a full "
                    + "queue → 503 {\"detail\":{\"code\":\"queue_overloaded\",…}} with Retry-After.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = {
                    @Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(type = "object")),
                    @Content(mediaType = MediaType.MULTIPART_FORM_DATA_VALUE, schema = @Schema(type = "object"))}),
            responses = {
                    @ApiResponse(responseCode = "200", description = "Accepted: {job_id, task_id, status, …}"),
                    @ApiResponse(responseCode = "400", description = "Missing required fields or reference image: " + ERROR),
                    @ApiResponse(responseCode = "422", description = "A value is invalid or locked: " + ERROR),
                    @ApiResponse(responseCode = "503", description = "{\"detail\":{\"code\":\"queue_overloaded\",\"detail\":…,\"user_action\":…}}")})
    @PostMapping("/generate")
    ResponseEntity<Object> generate(Caller caller, HttpServletRequest req) throws IOException {
        GeneratePayload.Translated t = payload(req).translate(catalog);
        RunService.Prepared prepared = runs.prepare(caller, t.request(), t.recorded());
        Run run = runs.insert(prepared);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("job_id", run.id());
        m.put("task_id", run.id());
        m.put("status", TaskStates.QUEUED);
        m.put("model", t.model().id());
        m.put("type", t.model().type());
        m.put("mode", run.mode());
        m.put("batch_size", run.total());
        int eta = prepared.plan().jobs().stream().mapToInt(j -> j.etaSeconds() == null ? 0 : j.etaSeconds()).max().orElse(0);
        m.put("estimated_time", eta);
        m.put("status_url", tasks.base() + "/status/" + run.id());
        return ResponseEntity.ok(m);
    }

    private static GeneratePayload payload(HttpServletRequest req) throws IOException {
        MultipartHttpServletRequest multipart = WebUtils.getNativeRequest(req, MultipartHttpServletRequest.class);
        String type = req.getContentType() == null ? "" : req.getContentType().toLowerCase(java.util.Locale.ROOT);
        if (multipart != null || type.startsWith(MediaType.APPLICATION_FORM_URLENCODED_VALUE)) {
            ObjectNode fields = Json.object();
            req.getParameterMap().forEach((k, v) -> {
                if (v.length > 0) fields.put(k, v[0]);
            });
            Map<String, MultipartFile> files = multipart == null ? Map.of() : multipart.getFileMap();
            return new GeneratePayload(fields, files, true);
        }
        JsonNode body = RequestBodies.parse(req.getInputStream().readAllBytes());
        return new GeneratePayload(body, Map.of(), false);
    }

    @Operation(summary = "A task's results (seed, size, model, type, metadata)",
            responses = {@ApiResponse(responseCode = "200", description = "The task, its outputs and their metadata"),
                    @ApiResponse(responseCode = "404", description = "No such task: " + ERROR)})
    @GetMapping("/results/{task_id}")
    Map<String, Object> results(Caller caller, @PathVariable("task_id") String id) {
        Tasks.Task t = tasks.find(caller, id);
        String status = t.status();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task_id", t.id());
        m.put("status", status);
        m.put("model", SeedModel.seedName(t.model()));
        m.put("type", Tasks.type(t));
        m.put("mode", t.mode());
        Job first = t.jobs().getFirst();
        m.put("prompt", first.prompt());
        m.put("negative_prompt", first.negativePrompt() == null ? "" : first.negativePrompt());
        List<Tasks.Output> outs = Tasks.outputs(t);
        Tasks.Output out = outs.isEmpty() ? null : outs.getFirst();
        Job job = out != null ? out.job() : first;
        Integer w = out != null && out.asset().width() != null ? out.asset().width() : Tasks.intParam(job, "width");
        Integer h = out != null && out.asset().height() != null ? out.asset().height() : Tasks.intParam(job, "height");
        m.put("seed", Tasks.seed(job));
        m.put("size", w == null || h == null ? null : w + "x" + h);
        m.put("width", w);
        m.put("height", h);
        m.put("url", out == null ? null : tasks.url(out.asset()));
        m.put("results", outs.stream().map(o -> output(t, o)).toList());
        Map<String, Object> metadata = tasks.metadata(t, job, out == null ? null : out.asset());
        if (job.params() != null) job.params().properties().forEach(e -> metadata.putIfAbsent(e.getKey(), Json.MAPPER.treeToValue(e.getValue(), Object.class)));
        JsonNode request = t.request();
        if (request != null && request.has("output_format")) metadata.putIfAbsent("output_format", request.get("output_format").asString());
        m.put("metadata", metadata);
        m.put("batch_size", t.jobs().size());
        if (status.equals(TaskStates.FAILED)) m.putAll(Tasks.failure(t));
        m.put("created_at", t.createdAt().toString());
        m.put("completed_at", t.jobs().stream().allMatch(j -> j.status().terminal())
                ? t.jobs().stream().map(Job::finishedAt).filter(java.util.Objects::nonNull).max(java.util.Comparator.naturalOrder())
                        .map(Object::toString).orElse(null)
                : null);
        return m;
    }

    private Map<String, Object> output(Tasks.Task t, Tasks.Output o) {
        Asset a = o.asset();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("url", tasks.url(a));
        m.put("seed", Tasks.seed(o.job()));
        m.put("width", a.width());
        m.put("height", a.height());
        m.put("size", a.width() == null || a.height() == null ? null : a.width() + "x" + a.height());
        m.put("mime", a.mime());
        m.put("bytes", a.size());
        if (a.frames() != null) m.put("num_frames", a.frames());
        if (a.fps() != null) m.put("fps", a.fps());
        if (a.durationMs() != null) m.put("duration", a.durationMs() / 1000.0);
        m.put("inference_time", Tasks.inferenceSeconds(o.job()));
        return m;
    }

    @Operation(summary = "A task's preview image",
            description = "The first output's thumbnail (a video's poster frame) as an image; 409 not_ready until the task has completed.",
            responses = {@ApiResponse(responseCode = "200", description = "The preview image",
                            content = @Content(mediaType = "image/*", schema = @Schema(type = "string", format = "binary"))),
                    @ApiResponse(responseCode = "404", description = "No such task: " + ERROR),
                    @ApiResponse(responseCode = "409", description = "The task has no output yet: " + ERROR)})
    @GetMapping("/preview/{task_id}")
    ResponseEntity<?> preview(Caller caller, @PathVariable("task_id") String id) {
        Tasks.Task t = tasks.find(caller, id);
        List<Tasks.Output> outs = Tasks.outputs(t);
        if (outs.isEmpty()) {
            throw new MediaGenException(409, "not_ready", "Task " + id + " has no output yet (status " + t.status() + ")",
                    Map.of("status", t.status()));
        }
        Asset a = outs.getFirst().asset();
        String sha = a.hasThumbnail() ? a.thumbSha256() : a.isImage() ? a.sha256() : null;
        String mime = a.hasThumbnail() ? a.thumbMime() : a.mime();
        if (sha == null) throw new MediaGenException(404, "no_preview", "Task " + id + " has no preview image", null);
        InputStream in = assets.open(sha, 0, -1);
        return ResponseEntity.ok().contentType(MediaType.parseMediaType(mime)).cacheControl(CacheControl.noCache().cachePrivate())
                .body(new InputStreamResource(in));
    }

    @Operation(summary = "The caller's MediaGen tasks, newest first",
            responses = {@ApiResponse(responseCode = "200", description = "{items:[…], next_before}"),
                    @ApiResponse(responseCode = "422", description = "limit out of range: " + ERROR)})
    @GetMapping("/gallery")
    Map<String, Object> gallery(Caller caller,
                                @Parameter(description = "1–200, default 50") @RequestParam(required = false) Integer limit,
                                @Parameter(description = "a task_id: list tasks older than it") @RequestParam(required = false) String before) {
        int n = limit == null ? 50 : limit;
        if (n < 1 || n > 200) {
            throw new MediaGenException(422, "validation_error", "limit: must be 1 to 200",
                    List.of(Map.of("field", "limit", "message", "must be 1 to 200")));
        }
        List<Tasks.Task> list = tasks.list(caller, before, n);
        List<Map<String, Object>> items = list.stream().map(this::item).toList();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("items", items);
        m.put("count", items.size());
        m.put("next_before", list.size() == n ? list.getLast().id() : null);
        return m;
    }

    private Map<String, Object> item(Tasks.Task t) {
        String status = t.status();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task_id", t.id());
        m.put("status", status);
        m.put("model", SeedModel.seedName(t.model()));
        m.put("type", Tasks.type(t));
        m.put("mode", t.mode());
        m.put("prompt", t.jobs().getFirst().prompt());
        List<Tasks.Output> outs = Tasks.outputs(t);
        Tasks.Output out = outs.isEmpty() ? null : outs.getFirst();
        m.put("url", out == null ? null : tasks.url(out.asset()));
        m.put("urls", outs.stream().map(o -> tasks.url(o.asset())).toList());
        m.put("preview_url", out == null ? null : tasks.previewUrl(t));
        m.put("seed", Tasks.seed(out != null ? out.job() : t.jobs().getFirst()));
        m.put("width", out != null ? out.asset().width() : Tasks.intParam(t.jobs().getFirst(), "width"));
        m.put("height", out != null ? out.asset().height() : Tasks.intParam(t.jobs().getFirst(), "height"));
        m.put("progress", Tasks.progress(t));
        m.put("created_at", t.createdAt().toString());
        return m;
    }

    @Operation(summary = "Delete a task and its files",
            description = "A task still running is cancelled first.",
            responses = {@ApiResponse(responseCode = "200", description = "{status:\"success\", task_id, deleted:true}"),
                    @ApiResponse(responseCode = "404", description = "No such task: " + ERROR)})
    @DeleteMapping("/gallery/{task_id}")
    Map<String, Object> delete(Caller caller, @PathVariable("task_id") String id) {
        Tasks.Task t = tasks.find(caller, id);
        tasks.delete(caller, t);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "success");
        m.put("task_id", id);
        m.put("deleted", true);
        return m;
    }
}

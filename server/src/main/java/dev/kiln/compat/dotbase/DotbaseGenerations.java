package dev.kiln.compat.dotbase;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.catalog.ImageInputSpec;
import dev.kiln.catalog.ModeSpec;
import dev.kiln.catalog.Model;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.compat.dotbase.DotbaseErrors.DotbaseException;
import dev.kiln.config.KilnProperties;
import dev.kiln.job.GenerationRequest;
import dev.kiln.job.Job;
import dev.kiln.job.JobService;
import dev.kiln.job.JobStatus;
import dev.kiln.job.JobStore;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Service;
import tools.jackson.databind.JsonNode;

/**
 * {@code .base}'s generations, translated onto Kiln's jobs: a generation is one job made through
 * this API (origin {@value #ORIGIN}), its {@code id} the job's id, its {@code prediction_id} the
 * provider's id for it (Replicate's prediction id), its outputs Kiln's stored copies.
 */
@Service
@ConditionalOnCompat("002")
class DotbaseGenerations {
    static final String ORIGIN = "002";
    static final Set<String> FIELDS = Set.of("action", "model_id", "prompt", "input_image_url", "settings");
    /** How long output and input links in answers work without credentials. */
    static final Duration LINK_LIFETIME = Duration.ofHours(24);

    private final JobService jobs;
    private final AssetService assets;
    private final DotbaseCatalog catalog;
    private final KilnProperties props;
    private final Duration predictionWait;

    DotbaseGenerations(JobService jobs, AssetService assets, DotbaseCatalog catalog, KilnProperties props,
                       @Value("${kiln.dotbase-prediction-wait:2s}") Duration predictionWait) {
        this.jobs = jobs;
        this.assets = assets;
        this.catalog = catalog;
        this.props = props;
        this.predictionWait = predictionWait;
    }

    record Created(@JsonProperty("id") String id, @JsonProperty("prediction_id") String predictionId,
                   @JsonProperty("status") String status) {}

    record Generation(
            @JsonProperty("id") String id,
            @JsonProperty("user_id") String userId,
            @JsonProperty("action") String action,
            @JsonProperty("model_id") String modelId,
            @JsonProperty("model_name") String modelName,
            @JsonProperty("prompt") String prompt,
            @JsonProperty("input_image_url") String inputImageUrl,
            @JsonProperty("settings") JsonNode settings,
            @JsonProperty("status") String status,
            @JsonProperty("output_urls") List<String> outputUrls,
            @JsonProperty("prediction_id") String predictionId,
            @JsonProperty("processing_time_ms") Long processingTimeMs,
            @JsonProperty("error_message") String errorMessage,
            @JsonProperty("created_at") Instant createdAt,
            @JsonProperty("completed_at") Instant completedAt) {}

    record GenerationList(@JsonProperty("generations") List<Generation> generations, @JsonProperty("total") long total,
                          @JsonProperty("page") int page, @JsonProperty("limit") int limit,
                          @JsonProperty("totalPages") long totalPages) {}

    // ---------------------------------------------------------------- create

    /**
     * {@code POST /api/generations/create}: checks the seed's fields, translates them into a typed
     * request ({@code settings} are the model's parameters, {@code input_image_url} goes to the
     * action's image input) and hands it to the core, which checks everything else and holds the
     * credits. Waits briefly for the provider's id, as the seed answered with its prediction.
     */
    Created create(Caller caller, JsonNode body, String baseUrl) {
        if (!body.isObject()) throw DotbaseException.badRequest("body", "must be a JSON object");
        for (String f : body.propertyNames()) {
            if (!FIELDS.contains(f)) throw DotbaseException.badRequest(f, "unknown field; allowed: action, model_id, prompt, input_image_url, settings");
        }
        String action = text(body, "action", true);
        if (!DotbaseCatalog.ACTIONS.contains(action)) {
            throw DotbaseException.badRequest("action", "must be one of " + String.join(", ", DotbaseCatalog.ACTIONS));
        }
        String modelId = text(body, "model_id", true);
        Model model = catalog.find(modelId);
        if (model == null || !catalog.listable(model)) {
            throw DotbaseException.badRequest("model_id", "unknown model '" + modelId + "'; GET /api/models/list lists them");
        }
        ModeSpec mode = DotbaseCatalog.modeFor(model, action);
        if (mode == null) {
            throw DotbaseException.badRequest("action", "model " + modelId + " does not do '" + action + "'; it does "
                    + String.join(", ", model.actions()));
        }
        String prompt = text(body, "prompt", false);
        String imageUrl = text(body, "input_image_url", false);
        Map<String, Object> params = new LinkedHashMap<>();
        String negative = null;
        JsonNode settings = body.get("settings");
        if (settings != null && !settings.isNull()) {
            if (!settings.isObject()) throw DotbaseException.badRequest("settings", "must be an object");
            for (String name : settings.propertyNames()) {
                JsonNode v = settings.get(name);
                // A form built from the settings list may send the prompt among them.
                if (name.equals("prompt") && v.isString()) {
                    if (prompt == null) prompt = v.asString();
                } else if (name.equals("negative_prompt") && (v.isString() || v.isNull())) {
                    negative = v.isNull() ? null : v.asString();
                } else {
                    params.put(name, Json.MAPPER.treeToValue(v, Object.class));
                }
            }
        }
        ImageInputSpec input = DotbaseCatalog.imageInput(mode);
        if (imageUrl != null && input == null) {
            throw DotbaseException.badRequest("input_image_url", "action '" + action + "' of " + modelId + " takes no input image");
        }
        if (imageUrl == null && input != null && input.min() > 0) {
            throw DotbaseException.badRequest("input_image_url", "is required for action '" + action + "' (the image to work on)");
        }
        GenerationRequest.Builder g = GenerationRequest.of(model.id()).mode(mode.id()).prompt(prompt).negativePrompt(negative)
                .params(params).origin(ORIGIN);
        if (imageUrl != null) g.image(input.name(), imageUrl);
        JobService.Plan plan = jobs.prepare(caller, g.build());
        Job job = jobs.insert(plan).getFirst();
        job = awaitRemoteId(caller, job);
        return new Created(job.id(), job.remoteId(), DotbaseStatus.of(job.status()));
    }

    /** The job once the provider named it (or ended it), or as it is after {@code kiln.dotbase-prediction-wait}. */
    private Job awaitRemoteId(Caller caller, Job job) {
        long until = System.nanoTime() + predictionWait.toNanos();
        Job j = job;
        while (j.remoteId() == null && !j.status().terminal() && System.nanoTime() < until) {
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            j = jobs.get(caller, j.id());
        }
        return j;
    }

    private static String text(JsonNode body, String field, boolean required) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (required) throw DotbaseException.badRequest(field, "is required");
            return null;
        }
        if (!n.isString()) throw DotbaseException.badRequest(field, "must be a string");
        if (required && n.asString().isBlank()) throw DotbaseException.badRequest(field, "is required");
        return n.asString();
    }

    // ---------------------------------------------------------------- read, list, delete

    /** A generation the caller may see; anything else (another user's, another API's, unknown) is the seed's 404. */
    Job find(Caller caller, String id) {
        try {
            Job j = jobs.get(caller, id);
            if (!ORIGIN.equals(j.origin())) throw DotbaseException.notFound();
            return j;
        } catch (KilnException e) {
            if (e.code() == dev.kiln.support.ErrorCode.NOT_FOUND) throw DotbaseException.notFound();
            throw e;
        }
    }

    Generation get(Caller caller, String id, String baseUrl) {
        Job j = find(caller, id);
        return views(List.of(j), baseUrl).getFirst();
    }

    GenerationList list(Caller caller, int page, int limit, String action, String status, String baseUrl) {
        List<JobStatus> statuses = null;
        if (status != null) {
            statuses = DotbaseStatus.statuses(status);
            if (statuses == null) throw DotbaseException.badRequest("status", "must be one of " + String.join(", ", DotbaseStatus.WORDS));
        }
        List<Map.Entry<String, String>> modes = null;
        if (action != null) {
            if (!DotbaseCatalog.ACTIONS.contains(action)) {
                throw DotbaseException.badRequest("action", "must be one of " + String.join(", ", DotbaseCatalog.ACTIONS));
            }
            modes = catalog.modesOf(action);
        }
        JobService.Page p = jobs.page(caller, new JobStore.PageFilter(ORIGIN, caller.id(), statuses, modes),
                (long) (page - 1) * limit, limit);
        long pages = (p.total() + limit - 1) / limit;
        return new GenerationList(views(p.items(), baseUrl), p.total(), page, limit, pages);
    }

    /** Cancels the generation if it is still running (at the provider too), then deletes it and its files. */
    void delete(Caller caller, String id) {
        Job j = find(caller, id);
        jobs.delete(caller, j.id());
    }

    private List<Generation> views(List<Job> list, String baseUrl) {
        List<String> done = list.stream().filter(j -> j.status() == JobStatus.SUCCEEDED).map(Job::id).toList();
        Map<String, List<Asset>> outputs = done.isEmpty() ? Map.of() : assets.outputsOf(done);
        String base = props.webhookBase() != null ? props.webhookBase() : baseUrl;
        return list.stream().map(j -> view(j, outputs.getOrDefault(j.id(), List.of()), base)).toList();
    }

    private Generation view(Job j, List<Asset> outs, String base) {
        boolean completed = j.status() == JobStatus.SUCCEEDED;
        List<String> urls = completed ? outs.stream().map(a -> base + assets.signedPath(a.id(), LINK_LIFETIME)).toList() : null;
        Long took = null;
        if (completed) {
            took = j.providerRunMillis();
            // A provider that reports no run time: Kiln's own measure, from submission to the end.
            if (took == null && j.startedAt() != null && j.finishedAt() != null) took = Duration.between(j.startedAt(), j.finishedAt()).toMillis();
        }
        String error = null;
        if (DotbaseStatus.FAILED.equals(DotbaseStatus.of(j.status()))) {
            error = j.errorMessage() != null ? j.errorMessage()
                    : j.status() == JobStatus.CANCELED ? "the generation was cancelled" : "the generation failed";
        }
        return new Generation(j.id(), j.ownerId(), catalog.actionOf(j.model(), j.mode()), j.model(), j.model(),
                j.prompt() == null || j.prompt().isEmpty() ? null : j.prompt(), inputUrl(j, base), j.params(),
                DotbaseStatus.of(j.status()), urls, j.remoteId(), took, error, j.createdAt(), j.status().terminal() ? j.finishedAt() : null);
    }

    private String inputUrl(Job j, String base) {
        JsonNode inputs = j.inputs();
        if (inputs == null || !inputs.isObject()) return null;
        for (var e : inputs.properties()) {
            if (e.getValue().isArray() && !e.getValue().isEmpty()) return base + assets.signedPath(e.getValue().get(0).asString(), LINK_LIFETIME);
        }
        return null;
    }
}

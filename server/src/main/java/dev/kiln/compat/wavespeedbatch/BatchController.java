package dev.kiln.compat.wavespeedbatch;

import dev.kiln.archive.airtable.AirtableArchive;
import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamSpec;
import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.job.GenerationRequest;
import dev.kiln.run.Run;
import dev.kiln.run.RunService;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code POST /api/batch} of the WaveSpeed batch generator: a subject image, reference images and
 * a prompt become one Kiln run of {@code batchCount} Seedream v4.5 edits (the catalogue's
 * {@value #MODEL}, mode {@value #MODE}; subject first, then the references, as its
 * {@code reference} images). Kiln fetches and checks every image before anything is queued, so an
 * image that cannot be fetched is the generator's 500 and nothing is charged.
 */
@Tag(name = BatchController.TAG, description = "The WaveSpeed batch generator's API (POST /api/batch, GET /status/{runId}); "
        + "its webhook is POST /webhooks/wavespeed and its health check GET /health, both served by Kiln itself.")
@RestController
@ConditionalOnCompat("000")
class BatchController {
    static final String TAG = "Seed API: WaveSpeed batch generator";
    static final String ORIGIN = "000";
    static final String MODEL = "seedream-v4.5";
    static final String MODE = "img2img";
    /** How long a submission waits for the Airtable archive to create the run's parent record (its {@code parentId}). */
    static final Duration PARENT_WAIT = Duration.ofSeconds(5);
    private static final Logger log = LoggerFactory.getLogger(BatchController.class);

    private final RunService runs;
    private final Catalog catalog;
    private final AirtableArchive archive;
    private final JsonMapper json;

    BatchController(RunService runs, Catalog catalog, AirtableArchive archive, JsonMapper json) {
        this.runs = runs;
        this.catalog = catalog;
        this.archive = archive;
        this.json = json;
    }

    @Operation(summary = "Submit a batch (WaveSpeed batch generator)", description = "Body {prompt, subjectUrl, referenceUrls[], width, "
            + "height, batchCount}: batchCount (1–10) Seedream v4.5 edits of the subject with the references. Sizes 256–2048; a size below "
            + "the model's minimum is raised keeping its aspect ratio (the size made is in `size`). 200 {runId, parentId (the Airtable "
            + "record, null without Airtable), message}; 400 {error:\"Missing required fields\"} without prompt or subjectUrl; 500 "
            + "{error:\"Failed to fetch image: …\"} for an image that cannot be fetched.")
    @PostMapping("/api/batch")
    ResponseEntity<?> submit(Caller caller, @RequestBody(required = false) byte[] body) {
        JsonNode node;
        try {
            node = body == null || body.length == 0 ? json.createObjectNode() : json.readTree(body);
        } catch (JacksonException e) {
            return SeedErrors.of(400, "Invalid JSON body", e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) return SeedErrors.of(400, SeedErrors.MISSING, "the body must be a JSON object");
        BatchRequest req = BatchRequest.from(node);
        if (req.prompt() == null || req.subjectUrl() == null) {
            return SeedErrors.of(400, SeedErrors.MISSING, "prompt and subjectUrl are required");
        }
        long count = req.countOrDefault();
        if (count < 1 || count > BatchRequest.MAX_BATCH) {
            return SeedErrors.of(400, "batchCount must be between 1 and " + BatchRequest.MAX_BATCH, "got " + node.get("batchCount"));
        }
        long w = req.widthOrDefault(), h = req.heightOrDefault();
        if (w < BatchRequest.MIN_SIDE || w > BatchRequest.MAX_SIDE || h < BatchRequest.MIN_SIDE || h > BatchRequest.MAX_SIDE) {
            return SeedErrors.of(400, "width and height must be between " + BatchRequest.MIN_SIDE + " and " + BatchRequest.MAX_SIDE,
                    "got " + node.get("width") + "x" + node.get("height"));
        }
        Model model = catalog.find(MODEL).orElseThrow(() -> new IllegalStateException("the catalogue has no " + MODEL));
        int maxImages = model.mode(MODE).images().getFirst().max();
        if (req.images().size() > maxImages) {
            return SeedErrors.of(400, "Too many images: the subject and at most " + (maxImages - 1) + " reference images", null);
        }
        long[] size = realSize(model, w, h);

        GenerationRequest.Builder g = GenerationRequest.of(MODEL).mode(MODE).prompt(req.prompt())
                .param("width", size[0]).param("height", size[1]).count((int) count).origin(ORIGIN);
        for (String url : req.images()) g.image("reference", url);
        ObjectNode received = json.createObjectNode();
        received.put("prompt", req.prompt());
        received.put("subjectUrl", req.subjectUrl());
        received.putPOJO("referenceUrls", req.referenceUrls());
        received.put("width", w);
        received.put("height", h);
        received.put("batchCount", count);
        received.put("size", size[0] + "x" + size[1]);

        Run run;
        try {
            run = runs.insert(runs.prepare(caller, g.build(), received));
        } catch (KilnException e) {
            return SeedErrors.of(e, req.images());
        }
        log.info("[Batch Start] Run {}: Starting {} tasks ({}x{})", run.id(), run.total(), size[0], size[1]);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("runId", run.id());
        answer.put("parentId", archive.recordIdFor(run.id(), PARENT_WAIT).orElse(null));
        answer.put("message", "Batch submitted successfully");
        answer.put("size", size[0] + "x" + size[1]);
        return ResponseEntity.ok(answer);
    }

    /**
     * The size the model really makes for a requested one: raised keeping the aspect ratio until
     * it has the model's minimum pixel count and each side its minimum, each side kept within its
     * maximum (Seedream v4.5: 1024–4096 per side, at least 3,686,400 pixels, so 512×512 becomes
     * 1920×1920).
     */
    static long[] realSize(Model m, long w, long h) {
        ParamSpec ws = m.param("width"), hs = m.param("height");
        double minW = ws.min() == null ? 1 : ws.min(), minH = hs.min() == null ? 1 : hs.min();
        long maxW = ws.max() == null ? Long.MAX_VALUE : ws.max().longValue(), maxH = hs.max() == null ? Long.MAX_VALUE : hs.max().longValue();
        long minArea = m.area() == null ? 1 : m.area().min();
        double scale = Math.max(1, Math.max(Math.sqrt((double) minArea / ((double) w * h)), Math.max(minW / w, minH / h)));
        long nw = Math.min(maxW, (long) Math.ceil(w * scale - 1e-9)), nh = Math.min(maxH, (long) Math.ceil(h * scale - 1e-9));
        if (nw * nh < minArea) {
            if (nw == maxW) nh = Math.min(maxH, (minArea + nw - 1) / nw);
            else nw = Math.min(maxW, (minArea + nh - 1) / nh);
        }
        return new long[] {nw, nh};
    }
}

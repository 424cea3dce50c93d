package dev.kiln.api;

import dev.kiln.run.Run;
import dev.kiln.run.RunService;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;

@Tag(name = "Runs", description = "Batches: prompts × count × grid")
@RestController
@RequestMapping("/v1/runs")
class RunController {
    private final RunService runs;
    private final Views views;
    private final Idempotency idempotency;
    private final JsonMapper json;

    RunController(RunService runs, Views views, Idempotency idempotency, JsonMapper json) {
        this.runs = runs;
        this.views = views;
        this.idempotency = idempotency;
        this.json = json;
    }

    @Operation(summary = "Submit a run", description = "Body as a job, plus prompts (instead of prompt), count (copies per prompt) and grid ({param: [values]}). Jobs = prompts × count × grid cells, at most KILN_MAX_RUN_JOBS.")
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<String> create(Caller caller, @RequestBody byte[] body,
                                  @RequestHeader(name = "Idempotency-Key", required = false) String key) {
        var replay = idempotency.replay(caller.id(), key, "POST /v1/runs", body);
        if (replay.isPresent()) return replay.get();
        RunService.Prepared p = runs.prepare(caller, RequestBodies.parse(body));
        return idempotency.run(caller.id(), key, "POST /v1/runs", body, 202,
                () -> json.writeValueAsString(views.run(runs.insert(p), true)));
    }

    @Operation(summary = "Get a run with its jobs")
    @GetMapping("/{id}")
    Views.RunView get(Caller caller, @PathVariable String id) {
        return views.run(runs.get(caller, id), true);
    }

    @Operation(summary = "List runs", description = "Newest first, without their jobs.")
    @GetMapping
    Page<Views.RunView> list(Caller caller, @RequestParam(required = false) String cursor,
                             @RequestParam(required = false) Integer limit) {
        int n = Cursor.limit(limit);
        List<Run> page = runs.list(caller, Cursor.decode(cursor), n + 1);
        boolean more = page.size() > n;
        List<Run> items = more ? page.subList(0, n) : page;
        return new Page<>(items.stream().map(r -> views.run(r, false)).toList(), more ? Cursor.encode(items.getLast().id()) : null);
    }

    @Operation(summary = "Cancel every unfinished job of a run")
    @PostMapping("/{id}/cancel")
    Views.RunView cancel(Caller caller, @PathVariable String id) {
        return views.run(runs.cancel(caller, id), true);
    }
}

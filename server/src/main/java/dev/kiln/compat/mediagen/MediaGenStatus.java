package dev.kiln.compat.mediagen;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.compat.StatusRoute;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;

/**
 * {@code GET /status/{task_id}} for MediaGen's tasks, which {@code pollJobStatus} polls every
 * 500 ms: {@code status} (queued, processing, completed, failed: {@link TaskStates}),
 * {@code progress} in percent, {@code result} (the {@code GenerationResponse}) once completed,
 * {@code error} once failed.
 */
@ConditionalOnCompat("003")
@Component
class MediaGenStatus implements StatusRoute {
    private final Tasks tasks;

    MediaGenStatus(Tasks tasks) {
        this.tasks = tasks;
    }

    @Override
    public String origin() {
        return GeneratePayload.ORIGIN;
    }

    @Override
    public ResponseEntity<?> status(Caller caller, String id) {
        try {
            return ResponseEntity.ok(view(tasks.find(caller, id)));
        } catch (MediaGenException e) {
            return MediaGenErrors.body(e.status(), e.code(), e.getMessage(), e.details());
        } catch (KilnException e) {
            return MediaGenErrors.render(e);
        }
    }

    Map<String, Object> view(Tasks.Task t) {
        String status = t.status();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task_id", t.id());
        m.put("job_id", t.id());
        m.put("status", status);
        m.put("progress", Tasks.progress(t));
        m.put("model", SeedModel.seedName(t.model()));
        m.put("type", Tasks.type(t));
        m.put("mode", t.mode());
        m.put("result", status.equals(TaskStates.COMPLETED) ? tasks.generationResponse(t) : null);
        Map<String, String> failure = status.equals(TaskStates.FAILED) ? Tasks.failure(t) : Map.of();
        m.put("error", failure.get("error"));
        if (failure.containsKey("code")) m.put("code", failure.get("code"));
        m.put("created_at", t.createdAt().toString());
        return m;
    }
}

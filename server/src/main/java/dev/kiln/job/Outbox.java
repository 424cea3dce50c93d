package dev.kiln.job;

import static dev.kiln.db.Db.instant;
import static dev.kiln.db.Db.ts;

import dev.kiln.support.Json;
import java.time.Instant;
import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Notifications to the webhook a client gave with its job ({@code "webhook":{"url","events"}}),
 * written in the same transaction as the status change, so none is lost; delivered at least once
 * by the engine's outbox loop.
 */
@Component
public class Outbox {
    /** The statuses notified when the client names none. */
    public static final List<String> DEFAULT_EVENTS = List.of("succeeded", "failed", "canceled", "timed_out");

    private final JdbcClient jdbc;

    Outbox(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** One pending delivery. */
    public record Delivery(long id, String jobId, String url, String event, String payload, int attempts, Instant createdAt) {}

    void onStatusChange(Job job, Instant now) {
        JsonNode cb = job.callback();
        if (cb == null || !cb.hasNonNull("url")) return;
        String status = job.status().wire();
        JsonNode events = cb.get("events");
        boolean wanted = events == null || events.isEmpty()
                ? DEFAULT_EVENTS.contains(status)
                : events.valueStream().anyMatch(e -> e.asString().equals(status));
        if (!wanted) return;
        ObjectNode data = Json.object();
        data.put("job_id", job.id());
        data.put("run_id", job.runId());
        data.put("model", job.model());
        data.put("status", status);
        if (job.errorCode() != null) {
            ObjectNode err = data.putObject("error");
            err.put("code", job.errorCode());
            err.put("message", job.errorMessage());
        }
        ObjectNode payload = Json.object();
        payload.put("type", "job." + status);
        payload.put("timestamp", now.toString());
        payload.set("data", data);
        jdbc.sql("INSERT INTO outbox (job_id, url, event, payload, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?)")
                .params(job.id(), cb.get("url").asString(), "job." + status, Json.write(payload), ts(now), ts(now)).update();
    }

    public List<Delivery> due(Instant now, int limit) {
        return jdbc.sql("SELECT * FROM outbox WHERE next_at <= ? ORDER BY next_at LIMIT ?").params(ts(now), limit)
                .query((rs, n) -> new Delivery(rs.getLong("id"), rs.getString("job_id"), rs.getString("url"), rs.getString("event"),
                        rs.getString("payload"), rs.getInt("attempts"), instant(rs, "created_at"))).list();
    }

    public void delivered(long id, Instant now) {
        jdbc.sql("UPDATE outbox SET delivered_at = ?, next_at = NULL, attempts = attempts + 1 WHERE id = ?").params(ts(now), id).update();
    }

    /** Schedules another try, or gives up when {@code nextAt} is null. */
    public void failed(long id, String error, Instant nextAt) {
        jdbc.sql("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_at = ? WHERE id = ?")
                .params(error, ts(nextAt), id).update();
    }

    public java.util.Optional<Instant> earliestDue() {
        return jdbc.sql("SELECT MIN(next_at) AS t FROM outbox").query((rs, n) -> instant(rs, "t")).optional();
    }
}

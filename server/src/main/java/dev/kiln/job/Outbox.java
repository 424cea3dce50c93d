package dev.kiln.job;

import static dev.kiln.db.Db.instant;
import static dev.kiln.db.Db.ts;

import dev.kiln.support.Json;
import java.net.URI;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
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

    /**
     * One pending delivery.
     *
     * @param receiver where it goes ({@code scheme://host:port}); deliveries are sent receiver by receiver
     */
    public record Delivery(long id, String jobId, String url, String receiver, String event, String payload, int attempts,
                           Instant createdAt) {}

    /** The receiver of a webhook URL: its scheme, host and port, so that one slow server is one queue. */
    public static String receiverOf(String url) {
        try {
            URI u = URI.create(url);
            String scheme = u.getScheme().toLowerCase(Locale.ROOT);
            int port = u.getPort() != -1 ? u.getPort() : scheme.equals("https") ? 443 : 80;
            return scheme + "://" + u.getHost().toLowerCase(Locale.ROOT) + ":" + port;
        } catch (RuntimeException e) {
            return url.length() > 300 ? url.substring(0, 300) : url;
        }
    }

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
        String url = cb.get("url").asString();
        jdbc.sql("INSERT INTO outbox (job_id, url, receiver, event, payload, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .params(job.id(), url, receiverOf(url), "job." + status, Json.write(payload), ts(now), ts(now)).update();
    }

    /** Due deliveries, oldest first, leaving out receivers already being served. */
    public List<Delivery> due(Instant now, int limit, Collection<String> exceptReceivers) {
        if (exceptReceivers.isEmpty()) {
            return jdbc.sql("SELECT * FROM outbox WHERE next_at <= :now ORDER BY next_at LIMIT :limit")
                    .param("now", ts(now)).param("limit", limit).query(Outbox::map).list();
        }
        return jdbc.sql("SELECT * FROM outbox WHERE next_at <= :now AND receiver NOT IN (:busy) ORDER BY next_at LIMIT :limit")
                .param("now", ts(now)).param("busy", List.copyOf(exceptReceivers)).param("limit", limit).query(Outbox::map).list();
    }

    /** Due deliveries to one receiver, oldest first. */
    public List<Delivery> dueFor(String receiver, Instant now, int limit) {
        return jdbc.sql("SELECT * FROM outbox WHERE receiver = ? AND next_at <= ? ORDER BY next_at LIMIT ?")
                .params(receiver, ts(now), limit).query(Outbox::map).list();
    }

    /**
     * Takes a due delivery for sending: moves its next try to {@code until}, so no other round or
     * instance sends it meanwhile, and so that it is tried again if this process dies sending it.
     */
    public boolean claim(long id, Instant now, Instant until) {
        return jdbc.sql("UPDATE outbox SET next_at = ? WHERE id = ? AND next_at <= ?").params(ts(until), id, ts(now)).update() == 1;
    }

    /** Removes every delivery of a job (the job itself is being removed). */
    void deleteForJob(String jobId) {
        jdbc.sql("DELETE FROM outbox WHERE job_id = ?").param(jobId).update();
    }

    /** Removes deliveries that are done (delivered or given up) and older than {@code before}; returns how many. */
    public int purgeDone(Instant before, int limit) {
        return jdbc.sql("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE next_at IS NULL AND created_at < ? LIMIT ?)")
                .params(ts(before), limit).update();
    }

    private static Delivery map(ResultSet rs, int n) throws SQLException {
        return new Delivery(rs.getLong("id"), rs.getString("job_id"), rs.getString("url"), rs.getString("receiver"), rs.getString("event"),
                rs.getString("payload"), rs.getInt("attempts"), instant(rs, "created_at"));
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

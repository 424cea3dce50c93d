package dev.kiln.job;

import dev.kiln.support.Json;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * A change to one job, applied by {@link JobStateMachine#apply}: optionally a new status and
 * phase (with the reason recorded in the history), plus columns to set.
 */
public final class JobChange {
    final JobStatus status;
    final Phase phase;
    final String reason;
    final Map<String, Object> columns = new LinkedHashMap<>();
    boolean slotAcquired;

    private JobChange(JobStatus status, Phase phase, String reason) {
        this.status = status;
        this.phase = phase;
        this.reason = reason;
    }

    /** A status change (checked against {@link JobTransitions}). */
    public static JobChange to(JobStatus status, Phase phase, String reason) {
        return new JobChange(status, phase, reason);
    }

    /** A change of phase only, within the same status. */
    public static JobChange phase(Phase phase) {
        return new JobChange(null, phase, null);
    }

    /** Only columns (progress, schedule, remote state). */
    public static JobChange fields() {
        return new JobChange(null, null, null);
    }

    JobChange set(String column, Object value) {
        columns.put(column, value);
        return this;
    }

    public JobChange nextAt(Instant at) { return set("next_at", at); }
    public JobChange noNextAt() { return set("next_at", null); }
    public JobChange progress(double p) { return set("progress", Math.max(0, Math.min(1, p))); }
    public JobChange queuePosition(Integer q) { return set("queue_position", q); }
    public JobChange remoteId(String id) { return set("remote_id", id); }
    public JobChange remote(JsonNode remote) { return set("remote", Json.write(remote)); }
    public JobChange submitState(SubmitState s) { return set("submit_state", s.wire()); }
    public JobChange submittedAt(Instant at) { return set("submitted_at", at); }
    public JobChange attempt(int a) { return set("attempt", a); }
    public JobChange polls(int p) { return set("polls", p); }
    public JobChange account(String provider, int bindingIndex, String accountId) {
        set("provider", provider);
        set("binding_index", bindingIndex);
        return set("account_id", accountId);
    }
    public JobChange bindingIndex(int i) { return set("binding_index", i); }
    public JobChange error(String code, String message) {
        set("error_code", code);
        return set("error_message", message == null ? null : message.length() > 2000 ? message.substring(0, 2000) : message);
    }
    public JobChange clearError() { return error(null, null); }
    public JobChange startedAt(Instant at) { return set("started_at", at); }
    public JobChange cost(BigDecimal cost) { return set("cost", cost); }
    public JobChange lease(String owner, Instant until) {
        set("lease_owner", owner);
        return set("lease_until", until);
    }
    public JobChange releaseLease() { return lease(null, null); }

    /** The dispatcher has taken a concurrency slot of the job's account in this transaction. */
    public JobChange slotAcquired() {
        this.slotAcquired = true;
        return this;
    }

    public JobStatus status() { return status; }
    public Phase phase() { return phase; }
    public String reason() { return reason; }

    @Override
    public String toString() {
        return "JobChange[" + status + "/" + phase + " " + columns.keySet() + (reason == null ? "" : " '" + reason + "'") + "]";
    }
}

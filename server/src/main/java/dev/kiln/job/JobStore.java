package dev.kiln.job;

import static dev.kiln.db.Db.instant;
import static dev.kiln.db.Db.integer;
import static dev.kiln.db.Db.ts;

import dev.kiln.db.Dialect;
import dev.kiln.db.Db;
import dev.kiln.support.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The SQL of the {@code jobs} and {@code job_history} tables. Only {@link JobStateMachine} calls
 * {@link #update}; the claim methods must run inside a transaction and do nothing slow.
 */
@Repository
public class JobStore {
    private static final RowMapper<Job> MAPPER = JobStore::map;
    /** The lane of a job inserted without one (the column's default, as {@code dev.kiln.lane.Lanes#DEFAULT}). */
    static final String DEFAULT_LANE = "default";
    private final JdbcClient jdbc;
    private final JdbcTemplate template;
    private final Dialect dialect;

    JobStore(JdbcClient jdbc, JdbcTemplate template, Dialect dialect) {
        this.jdbc = jdbc;
        this.template = template;
        this.dialect = dialect;
    }

    /**
     * A job to insert, fully resolved.
     *
     * @param note what Kiln changed in the request to fit the model (recorded in the job's first
     *     history entry), or null
     * @param origin the API that created the job ({@code v1} or a seed façade's id)
     * @param lane the lane the job waits in
     */
    public record NewJob(
            String id, String runId, Integer runIndex, String ownerId, String model, String mode, int priority,
            String prompt, String negativePrompt, String params, String inputs, String gridCell,
            int maxAttempts, java.math.BigDecimal cost, Integer etaSeconds, String webhookTokenDigest, String callback,
            Instant deadlineAt, Instant createdAt, String note, String origin, String lane) {}

    public void insertAll(List<NewJob> jobs) {
        template.batchUpdate("""
                INSERT INTO jobs (id, run_id, run_index, owner_id, model, mode, status, phase, priority, prompt, negative_prompt,
                  params, inputs, grid_cell, max_attempts, cost, eta_seconds, webhook_token, callback, next_at, deadline_at,
                  created_at, updated_at, origin, lane, queued_at)
                VALUES (?, ?, ?, ?, ?, ?, 'queued', 'dispatch', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                jobs, 500, (ps, j) -> {
                    int i = 1;
                    ps.setString(i++, j.id());
                    ps.setString(i++, j.runId());
                    ps.setObject(i++, j.runIndex());
                    ps.setString(i++, j.ownerId());
                    ps.setString(i++, j.model());
                    ps.setString(i++, j.mode());
                    ps.setInt(i++, j.priority());
                    ps.setString(i++, j.prompt());
                    ps.setString(i++, j.negativePrompt());
                    ps.setString(i++, j.params());
                    ps.setString(i++, j.inputs());
                    ps.setString(i++, j.gridCell());
                    ps.setInt(i++, j.maxAttempts());
                    ps.setBigDecimal(i++, j.cost());
                    ps.setObject(i++, j.etaSeconds());
                    ps.setString(i++, j.webhookTokenDigest());
                    ps.setString(i++, j.callback());
                    ps.setObject(i++, ts(j.createdAt()));
                    ps.setObject(i++, ts(j.deadlineAt()));
                    ps.setObject(i++, ts(j.createdAt()));
                    ps.setObject(i++, ts(j.createdAt()));
                    ps.setString(i++, j.origin() == null ? GenerationRequest.V1 : j.origin());
                    ps.setString(i++, j.lane() == null ? DEFAULT_LANE : j.lane());
                    ps.setObject(i++, ts(j.createdAt()));
                });
        template.batchUpdate("INSERT INTO job_history (job_id, at, from_status, to_status, phase, reason) VALUES (?, ?, NULL, 'queued', 'dispatch', ?)",
                jobs, 500, (ps, j) -> {
                    ps.setString(1, j.id());
                    ps.setObject(2, ts(j.createdAt()));
                    ps.setString(3, j.note() == null ? "accepted" : "accepted; " + j.note());
                });
    }

    public Optional<Job> find(String id) {
        return jdbc.sql("SELECT * FROM jobs WHERE id = ?").param(id).query(MAPPER).optional();
    }

    /** The job whose webhook token this is ({@code jobs.webhook_token} holds only its digest, see {@link WebhookTokens}). */
    public Optional<Job> findByWebhookToken(String token) {
        return jdbc.sql("SELECT * FROM jobs WHERE webhook_token = ?").param(WebhookTokens.digest(token)).query(MAPPER).optional();
    }

    /**
     * The job that tracks this remote job at this provider (a webhook that names only the remote
     * id); the newest when, improbably, two ever did.
     */
    public Optional<Job> findByRemoteId(String provider, String remoteId) {
        return jdbc.sql("SELECT * FROM jobs WHERE remote_id = ? AND provider = ? ORDER BY id DESC LIMIT 1")
                .params(remoteId, provider).query(MAPPER).optional();
    }

    /** Whether another job already tracks this remote id (reconciliation must not adopt it twice). */
    public boolean remoteIdTaken(String provider, String remoteId, String exceptJobId) {
        return jdbc.sql("SELECT COUNT(*) FROM jobs WHERE provider = ? AND remote_id = ? AND id <> ?")
                .params(provider, remoteId, exceptJobId).query(Long.class).single() > 0;
    }

    /**
     * Which of these remote ids no other job tracks (in the order given). A remote id another job
     * has recorded is that job's, so reconciliation can rule it out.
     */
    public List<String> unclaimedRemoteIds(String provider, List<String> remoteIds, String exceptJobId) {
        java.util.Set<String> claimed = new java.util.HashSet<>();
        for (int from = 0; from < remoteIds.size(); from += 500) {
            List<String> chunk = remoteIds.subList(from, Math.min(remoteIds.size(), from + 500));
            String marks = String.join(", ", java.util.Collections.nCopies(chunk.size(), "?"));
            List<Object> args = new java.util.ArrayList<>();
            args.add(provider);
            args.add(exceptJobId);
            args.addAll(chunk);
            claimed.addAll(jdbc.sql("SELECT remote_id FROM jobs WHERE provider = ? AND id <> ? AND remote_id IN (" + marks + ")")
                    .params(args).query(String.class).list());
        }
        return remoteIds.stream().filter(id -> !claimed.contains(id)).toList();
    }

    /** Filters of the job list; null means any. */
    public record Filter(String ownerId, JobStatus status, String model, String runId) {}

    /** Newest first; {@code before} is the last id of the previous page. */
    public List<Job> list(Filter f, String before, int limit) {
        StringBuilder sql = new StringBuilder("SELECT * FROM jobs WHERE NOT deleted");
        List<Object> args = new ArrayList<>();
        if (f.ownerId() != null) { sql.append(" AND owner_id = ?"); args.add(f.ownerId()); }
        if (f.status() != null) { sql.append(" AND status = ?"); args.add(f.status().wire()); }
        if (f.model() != null) { sql.append(" AND model = ?"); args.add(f.model()); }
        if (f.runId() != null) { sql.append(" AND run_id = ?"); args.add(f.runId()); }
        if (before != null) { sql.append(" AND id < ?"); args.add(before); }
        sql.append(" ORDER BY id DESC LIMIT ?");
        args.add(limit);
        return jdbc.sql(sql.toString()).params(args).query(MAPPER).list();
    }

    /**
     * A page query of jobs (not deleted) by creator API, owner, statuses and (model, mode) pairs;
     * null means any, an empty list matches nothing.
     */
    public record PageFilter(String origin, String ownerId, List<JobStatus> statuses, List<Map.Entry<String, String>> modelModes) {}

    /** Newest first, {@code limit} jobs after skipping {@code offset}. */
    public List<Job> page(PageFilter f, long offset, int limit) {
        List<Object> args = new ArrayList<>();
        String sql = "SELECT * FROM jobs" + where(f, args) + " ORDER BY id DESC LIMIT ? OFFSET ?";
        args.add(limit);
        args.add(offset);
        return jdbc.sql(sql).params(args).query(MAPPER).list();
    }

    /** How many jobs {@link #page} pages through. */
    public long count(PageFilter f) {
        List<Object> args = new ArrayList<>();
        return jdbc.sql("SELECT COUNT(*) FROM jobs" + where(f, args)).params(args).query(Long.class).single();
    }

    private static String where(PageFilter f, List<Object> args) {
        StringBuilder sql = new StringBuilder(" WHERE NOT deleted");
        if (f.origin() != null) { sql.append(" AND origin = ?"); args.add(f.origin()); }
        if (f.ownerId() != null) { sql.append(" AND owner_id = ?"); args.add(f.ownerId()); }
        if (f.statuses() != null) {
            if (f.statuses().isEmpty()) return sql.append(" AND 1 = 0").toString();
            sql.append(" AND status IN (").append(String.join(", ", java.util.Collections.nCopies(f.statuses().size(), "?"))).append(")");
            f.statuses().forEach(st -> args.add(st.wire()));
        }
        if (f.modelModes() != null) {
            if (f.modelModes().isEmpty()) return sql.append(" AND 1 = 0").toString();
            sql.append(" AND (");
            for (int i = 0; i < f.modelModes().size(); i++) {
                if (i > 0) sql.append(" OR ");
                sql.append("(model = ? AND mode = ?)");
                args.add(f.modelModes().get(i).getKey());
                args.add(f.modelModes().get(i).getValue());
            }
            sql.append(")");
        }
        return sql.toString();
    }

    /** Jobs per model that Kiln still holds (retention removes old ones), for catalogue listings. */
    public Map<String, Long> countByModel() {
        return jdbc.sql("SELECT model, COUNT(*) AS n FROM jobs GROUP BY model")
                .query((rs, n) -> Map.entry(rs.getString("model"), rs.getLong("n"))).list().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    /**
     * The jobs a seed façade created ({@code origin}), newest first, optionally of one owner,
     * model and status; {@code before} is the last id of the previous page.
     */
    public List<Job> listByOrigin(String origin, String ownerId, String model, JobStatus status, String before, int limit) {
        StringBuilder sql = new StringBuilder("SELECT * FROM jobs WHERE NOT deleted AND origin = ?");
        List<Object> args = new ArrayList<>(List.of(origin));
        if (ownerId != null) { sql.append(" AND owner_id = ?"); args.add(ownerId); }
        if (model != null) { sql.append(" AND model = ?"); args.add(model); }
        if (status != null) { sql.append(" AND status = ?"); args.add(status.wire()); }
        if (before != null) { sql.append(" AND id < ?"); args.add(before); }
        sql.append(" ORDER BY id DESC LIMIT ?");
        args.add(limit);
        return jdbc.sql(sql.toString()).params(args).query(MAPPER).list();
    }

    /** Jobs per status that a seed façade created ({@code origin}), optionally of one owner and model. */
    public Map<JobStatus, Integer> countByOrigin(String origin, String ownerId, String model) {
        StringBuilder sql = new StringBuilder("SELECT status, COUNT(*) AS n FROM jobs WHERE NOT deleted AND origin = ?");
        List<Object> args = new ArrayList<>(List.of(origin));
        if (ownerId != null) { sql.append(" AND owner_id = ?"); args.add(ownerId); }
        if (model != null) { sql.append(" AND model = ?"); args.add(model); }
        sql.append(" GROUP BY status");
        Map<JobStatus, Integer> counts = new EnumMap<>(JobStatus.class);
        for (JobStatus s : JobStatus.values()) counts.put(s, 0);
        jdbc.sql(sql.toString()).params(args).query((ResultSet rs) -> {
            counts.put(JobStatus.of(rs.getString("status")), rs.getInt("n"));
        });
        return counts;
    }

    public List<Job> listByRun(String runId) {
        return jdbc.sql("SELECT * FROM jobs WHERE run_id = ? AND NOT deleted ORDER BY run_index").param(runId).query(MAPPER).list();
    }

    public List<String> activeIdsOfRun(String runId) {
        return jdbc.sql("SELECT id FROM jobs WHERE run_id = ? AND status IN ('queued', 'running') ORDER BY run_index")
                .param(runId).query(String.class).list();
    }

    /** Status counts of a run, and when its last job finished. */
    public record RunTally(Map<JobStatus, Integer> counts, Instant lastFinishedAt) {}

    public RunTally tally(String runId) {
        Map<JobStatus, Integer> counts = new EnumMap<>(JobStatus.class);
        for (JobStatus s : JobStatus.values()) counts.put(s, 0);
        Instant[] last = {null};
        jdbc.sql("SELECT status, COUNT(*) AS n, MAX(finished_at) AS last FROM jobs WHERE run_id = ? GROUP BY status")
                .param(runId).query((ResultSet rs) -> {
                    counts.put(JobStatus.of(rs.getString("status")), rs.getInt("n"));
                    Instant l = instant(rs, "last");
                    if (l != null && (last[0] == null || l.isAfter(last[0]))) last[0] = l;
                });
        return new RunTally(counts, last[0]);
    }

    /**
     * The queued jobs matching {@code queued} (due, say) with their turn: each job's rank among its
     * owner's jobs of the same lane, counting first the jobs that owner has running there (matching
     * {@code running}), then its queued ones by priority and age. Served in order of turn, then
     * priority, then age, users take turns inside a lane: a user with nothing running goes before
     * the second job of a user with one running, whatever the size of that user's backlog.
     *
     * <p>Running and queued jobs are numbered in one window over a {@code UNION ALL} of two index
     * ranges ({@code jobs_fair}, {@code jobs_status}) rather than joined to a count: with a join,
     * a planner that believes the queue is empty (statistics older than a burst of submissions)
     * chose a nested loop that numbered the queue once per queued job (7 s for 1,000 jobs).
     */
    private static String ranked(String queued, String running) {
        return "SELECT id, lane, priority, turn FROM (SELECT id, lane, priority, queued,"
                + " ROW_NUMBER() OVER (PARTITION BY lane, owner_id ORDER BY queued, priority DESC, id) AS turn FROM ("
                + "SELECT id, lane, owner_id, priority, 1 AS queued FROM jobs WHERE phase = 'dispatch' AND " + queued
                + " UNION ALL SELECT id, lane, owner_id, 0 AS priority, 0 AS queued FROM jobs WHERE status = 'running' AND " + running
                + ") u) r WHERE queued = 1";
    }

    /** The fair order of {@link #ranked}. */
    private static final String FAIR_ORDER = "turn, priority DESC, id";

    /** How many queued jobs of its lane go before this one in the dispatcher's order (0 = next). */
    public int queuePosition(Job job) {
        return queuePositions(List.of(job)).getOrDefault(job.id(), 0);
    }

    /**
     * Where each of these queued jobs stands in its lane, in the dispatcher's fair order (0 = next);
     * jobs not queued are left out. One query per 500 jobs.
     */
    public Map<String, Integer> queuePositions(java.util.Collection<Job> jobs) {
        List<Job> queued = jobs.stream().filter(j -> j.status() == JobStatus.QUEUED && j.phase() == Phase.DISPATCH).toList();
        Map<String, Integer> out = new java.util.HashMap<>();
        for (int from = 0; from < queued.size(); from += 500) {
            List<Job> chunk = queued.subList(from, Math.min(queued.size(), from + 500));
            List<String> lanes = chunk.stream().map(Job::lane).distinct().toList();
            jdbc.sql("SELECT id, pos FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY lane ORDER BY " + FAIR_ORDER
                            + ") - 1 AS pos FROM (" + ranked("lane IN (:lanes)", "lane IN (:lanes)") + ") k) x WHERE id IN (:ids)")
                    .param("lanes", lanes).param("ids", chunk.stream().map(Job::id).toList())
                    .query((ResultSet rs) -> {
                        out.put(rs.getString("id"), rs.getInt("pos"));
                    });
        }
        return out;
    }

    public int queuedCount() {
        return jdbc.sql("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").query(Integer.class).single();
    }

    /** A lane's queue: how many jobs wait in it and since when the oldest has waited (null when none). */
    public record LaneQueue(int queued, Instant oldestQueuedAt) {}

    /** The queue of one lane (an index range of {@code jobs_lane_queue}). */
    public LaneQueue laneQueue(String lane) {
        return jdbc.sql("SELECT COUNT(*) AS n, MIN(queued_at) AS oldest FROM jobs WHERE lane = ? AND status = 'queued'")
                .param(lane).query((rs, n) -> new LaneQueue(rs.getInt("n"), instant(rs, "oldest"))).single();
    }

    /** What runs in a lane: how many jobs, and their mean estimated seconds (null when none). */
    public record LaneWork(int running, Double meanEtaSeconds) {}

    public LaneWork laneWork(String lane) {
        return jdbc.sql("SELECT COUNT(*) AS n, AVG(eta_seconds) AS eta FROM jobs WHERE lane = ? AND status = 'running'")
                .param(lane).query((rs, n) -> {
                    double eta = rs.getDouble("eta");
                    return new LaneWork(rs.getInt("n"), rs.wasNull() ? null : eta);
                }).single();
    }

    /** Every lane's load, for the admin view: queued, running, the oldest queued job's entry time. */
    public record LaneLoad(int queued, int running, Instant oldestQueuedAt) {}

    public Map<String, LaneLoad> laneLoads() {
        Map<String, LaneLoad> out = new java.util.TreeMap<>();
        jdbc.sql("SELECT lane, status, COUNT(*) AS n, MIN(queued_at) AS oldest FROM jobs WHERE status IN ('queued', 'running') GROUP BY lane, status")
                .query((ResultSet rs) -> {
                    LaneLoad was = out.getOrDefault(rs.getString("lane"), new LaneLoad(0, 0, null));
                    out.put(rs.getString("lane"), rs.getString("status").equals("queued")
                            ? new LaneLoad(rs.getInt("n"), was.running(), instant(rs, "oldest"))
                            : new LaneLoad(was.queued(), rs.getInt("n"), was.oldestQueuedAt()));
                });
        return out;
    }

    /**
     * Takes a lane's admission lock for the rest of the transaction (its row in
     * {@code lane_admissions}, made on first use) and counts {@code adding} jobs as admitted, so
     * that submissions to one lane check its limits one after the other.
     */
    public void lockLane(String lane, int adding) {
        if (jdbc.sql("UPDATE lane_admissions SET admitted = admitted + ? WHERE lane = ?").params(adding, lane).update() == 1) return;
        // ON CONFLICT DO NOTHING (both databases), not a caught duplicate key: on PostgreSQL a
        // failed statement aborts the whole transaction, so a submission that lost the race to
        // make the row would fail. The winner's row lock is what we wait for next.
        jdbc.sql("INSERT INTO lane_admissions (lane, admitted) VALUES (?, 0) ON CONFLICT DO NOTHING").param(lane).update();
        jdbc.sql("UPDATE lane_admissions SET admitted = admitted + ? WHERE lane = ?").params(adding, lane).update();
    }

    /** Jobs each lane admitted since its row was made. */
    public Map<String, Long> laneAdmissions() {
        return jdbc.sql("SELECT lane, admitted FROM lane_admissions")
                .query((rs, n) -> Map.entry(rs.getString("lane"), rs.getLong("admitted"))).list().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    /**
     * Puts the unfinished jobs of a model in this lane (at start-up, when the configuration moved
     * the model); returns how many moved.
     */
    public int relane(String model, String lane) {
        return jdbc.sql("UPDATE jobs SET lane = ? WHERE status IN ('queued', 'running') AND model = ? AND lane <> ?")
                .params(lane, model, lane).update();
    }

    /** Jobs running per owner, for these owners. */
    public Map<String, Integer> runningByOwner(java.util.Collection<String> owners) {
        if (owners.isEmpty()) return Map.of();
        return jdbc.sql("SELECT owner_id, COUNT(*) AS n FROM jobs WHERE status = 'running' AND owner_id IN (:owners) GROUP BY owner_id")
                .param("owners", List.copyOf(owners))
                .query((rs, n) -> Map.entry(rs.getString("owner_id"), rs.getInt("n"))).list().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    /** {@link #lockDispatchable(Instant, int, int)} with no per-user cap. */
    public List<Job> lockDispatchable(Instant now, int limit) {
        return lockDispatchable(now, limit, 0);
    }

    /**
     * Locks up to {@code limit} queued jobs that are due, in fair order ({@link #ranked}: users
     * take turns inside each lane, then priority, then age), skipping rows another claimer holds
     * and the jobs of users who already have {@code userCap} jobs running (0 = no cap; the caller
     * still counts the jobs it takes). Must run inside a short transaction.
     */
    public List<Job> lockDispatchable(Instant now, int limit, int userCap) {
        String due = "next_at <= :now" + (userCap > 0
                ? " AND owner_id NOT IN (SELECT owner_id FROM jobs WHERE status = 'running' GROUP BY owner_id HAVING COUNT(*) >= :cap)"
                : "");
        // The ranking cannot lock (FOR UPDATE is not allowed next to a window function), so it picks
        // candidates; then only those are locked. On PostgreSQL, more candidates than needed, locked
        // in rank order with SKIP LOCKED and LIMIT, so that a second instance's round gets the next
        // ones instead of none. H2 locks every row that matches FOR UPDATE before it applies a LIMIT,
        // and is one process with one dispatcher: it takes exactly the first ones.
        boolean pg = dialect == Dialect.POSTGRES;
        var pick = jdbc.sql("SELECT id FROM (" + ranked(due, "1 = 1") + ") k ORDER BY " + FAIR_ORDER + " LIMIT :limit")
                .param("now", ts(now)).param("limit", pg ? Math.min(4 * limit, 1024) : limit);
        if (userCap > 0) pick = pick.param("cap", userCap);
        List<String> ids = pick.query(String.class).list();
        if (ids.isEmpty()) return List.of();
        if (pg) {
            StringBuilder rows = new StringBuilder();
            List<Object> args = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                rows.append(i == 0 ? "(?, ?)" : ", (?, ?)");
                args.add(ids.get(i));
                args.add(i);
            }
            args.add(ts(now));
            args.add(limit);
            return jdbc.sql("SELECT j.* FROM jobs j JOIN (VALUES " + rows + ") AS c (id, ord) ON c.id = j.id"
                            + " WHERE j.phase = 'dispatch' AND j.next_at <= ? ORDER BY c.ord LIMIT ? FOR UPDATE OF j SKIP LOCKED")
                    .params(args).query(MAPPER).list();
        }
        Map<String, Job> locked = new java.util.HashMap<>();
        for (Job j : jdbc.sql("""
                SELECT * FROM jobs WHERE id IN (:ids) AND phase = 'dispatch' AND next_at <= :now
                FOR UPDATE SKIP LOCKED""")
                .param("ids", ids).param("now", ts(now)).query(MAPPER).list()) {
            locked.put(j.id(), j);
        }
        return ids.stream().map(locked::get).filter(java.util.Objects::nonNull).toList();
    }

    /**
     * Locks and leases up to {@code limit} jobs whose next step is due (or whose deadline passed
     * while queued), skipping leased and locked rows. Must run inside a short transaction.
     */
    public List<Job> claimDue(Instant now, int limit, String owner, Instant leaseUntil) {
        List<Job> jobs = jdbc.sql("""
                SELECT * FROM jobs WHERE next_at <= ? AND (phase <> 'dispatch' OR deadline_at <= ?)
                  AND (lease_until IS NULL OR lease_until < ?)
                ORDER BY next_at LIMIT ? FOR UPDATE SKIP LOCKED""")
                .params(ts(now), ts(now), ts(now), limit).query(MAPPER).list();
        if (jobs.isEmpty()) return jobs;
        List<String> ids = jobs.stream().map(Job::id).toList();
        jdbc.sql("UPDATE jobs SET lease_owner = :owner, lease_until = :until WHERE id IN (:ids)")
                .param("owner", owner).param("until", ts(leaseUntil)).param("ids", ids).update();
        return jobs.stream().map(j -> withLease(j, owner, leaseUntil)).toList();
    }

    /** Extends a lease this owner holds; false if it is no longer ours. */
    public boolean renewLease(String id, String owner, Instant until) {
        return jdbc.sql("UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ?")
                .params(ts(until), id, owner).update() == 1;
    }

    /** Gives up a lease without changing the job (e.g. after losing a race). */
    public void releaseLease(String id, String owner) {
        jdbc.sql("UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?")
                .params(id, owner).update();
    }

    /** At start-up on the embedded database: leases of the previous process are dead. */
    public int releaseAllLeases(Instant now) {
        // The jobs a dead process held are due now: their next_at was only its lease's end.
        return jdbc.sql("""
                UPDATE jobs SET lease_owner = NULL, lease_until = NULL,
                       next_at = CASE WHEN next_at IS NOT NULL AND next_at > ? THEN ? ELSE next_at END
                WHERE lease_owner IS NOT NULL""").params(ts(now), ts(now)).update();
    }

    /** A webhook or a cancel asks for attention now; not a state change, so no version bump. */
    public int expedite(String id, Instant now) {
        return jdbc.sql("UPDATE jobs SET next_at = ? WHERE id = ? AND next_at IS NOT NULL AND next_at > ? AND phase IN ('track', 'fetch')")
                .params(ts(now), id, ts(now)).update();
    }

    /** The earliest time any tracked step or dispatch is due, for the loops' sleep. */
    public Optional<Instant> earliestDue(boolean dispatch) {
        String sql = dispatch
                ? "SELECT MIN(next_at) AS t FROM jobs WHERE phase = 'dispatch'"
                : "SELECT MIN(t) AS t FROM (SELECT MIN(next_at) AS t FROM jobs WHERE phase IN ('submit', 'track', 'fetch', 'cancel')"
                  + " UNION ALL SELECT MIN(deadline_at) AS t FROM jobs WHERE phase = 'dispatch') x";
        return jdbc.sql(sql).query((rs, n) -> instant(rs, "t")).optional();
    }

    /** Updates one job if its version is unchanged; returns the rows updated (0 or 1). */
    int update(Job job, Map<String, Object> columns) {
        StringBuilder sql = new StringBuilder("UPDATE jobs SET version = version + 1");
        List<Object> args = new ArrayList<>();
        columns.forEach((c, v) -> {
            sql.append(", ").append(c).append(" = ?");
            args.add(Db.param(v));
        });
        sql.append(" WHERE id = ? AND version = ?");
        args.add(job.id());
        args.add(job.version());
        return jdbc.sql(sql.toString()).params(args).update();
    }

    void appendHistory(String jobId, Instant at, JobStatus from, JobStatus to, Phase phase, String reason) {
        jdbc.sql("INSERT INTO job_history (job_id, at, from_status, to_status, phase, reason) VALUES (?, ?, ?, ?, ?, ?)")
                .params(jobId, ts(at), from == null ? null : from.wire(), to.wire(), phase.wire(), reason).update();
    }

    /** One entry of a job's history. */
    public record HistoryEntry(Instant at, String from, String to, String phase, String reason) {}

    public List<HistoryEntry> history(String jobId) {
        return jdbc.sql("SELECT * FROM job_history WHERE job_id = ? ORDER BY id").param(jobId)
                .query((rs, n) -> new HistoryEntry(instant(rs, "at"), rs.getString("from_status"), rs.getString("to_status"),
                        rs.getString("phase"), rs.getString("reason"))).list();
    }

    /** Jobs with nothing left to do that finished before {@code before}, oldest first. */
    public List<String> finishedBefore(Instant before, int limit) {
        return jdbc.sql("SELECT id FROM jobs WHERE finished_at < ? AND phase = 'done' ORDER BY finished_at LIMIT ?")
                .params(ts(before), limit).query(String.class).list();
    }

    /** Removes the history of jobs that finished before {@code before}; returns how many entries. */
    public int trimHistory(Instant before, int limit) {
        return jdbc.sql("""
                DELETE FROM job_history WHERE id IN (SELECT h.id FROM job_history h JOIN jobs j ON j.id = h.job_id
                  WHERE j.finished_at < ? AND j.phase = 'done' LIMIT ?)""").params(ts(before), limit).update();
    }

    public void markDeleted(String jobId) {
        jdbc.sql("UPDATE jobs SET deleted = TRUE WHERE id = ?").param(jobId).update();
    }

    public void delete(String jobId) {
        jdbc.sql("DELETE FROM job_history WHERE job_id = ?").param(jobId).update();
        jdbc.sql("DELETE FROM jobs WHERE id = ?").param(jobId).update();
    }

    /** Jobs per status, for metrics and the admin view. */
    public Map<String, Long> countByStatus() {
        return jdbc.sql("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
                .query((rs, n) -> Map.entry(rs.getString("status"), rs.getLong("n"))).list().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    /** Jobs created through one API ({@code v1} or a façade's id), by status. */
    public Map<String, Long> countByStatus(String origin) {
        return jdbc.sql("SELECT status, COUNT(*) AS n FROM jobs WHERE origin = ? AND deleted = FALSE GROUP BY status").param(origin)
                .query((rs, n) -> Map.entry(rs.getString("status"), rs.getLong("n"))).list().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    private static Job withLease(Job j, String owner, Instant until) {
        return new Job(j.id(), j.runId(), j.runIndex(), j.ownerId(), j.model(), j.mode(), j.provider(), j.bindingIndex(),
                j.accountId(), j.status(), j.phase(), j.priority(), j.prompt(), j.negativePrompt(), j.params(), j.inputs(),
                j.gridCell(), j.attempt(), j.maxAttempts(), j.submitState(), j.submittedAt(), j.remoteId(), j.remote(),
                j.progress(), j.queuePosition(), j.errorCode(), j.errorMessage(), j.cost(), j.etaSeconds(), j.webhookTokenDigest(),
                j.callback(), j.polls(), j.nextAt(), j.deadlineAt(), owner, until, j.version(), j.createdAt(), j.startedAt(),
                j.finishedAt(), j.updatedAt(), j.deleted(), j.origin(), j.lane());
    }

    static Job map(ResultSet rs, int row) throws SQLException {
        return new Job(
                rs.getString("id"), rs.getString("run_id"), integer(rs, "run_index"), rs.getString("owner_id"),
                rs.getString("model"), rs.getString("mode"), rs.getString("provider"), rs.getInt("binding_index"),
                rs.getString("account_id"), JobStatus.of(rs.getString("status")), Phase.of(rs.getString("phase")),
                rs.getInt("priority"), rs.getString("prompt"), rs.getString("negative_prompt"),
                Json.parse(rs.getString("params")), Json.parse(rs.getString("inputs")), Json.parse(rs.getString("grid_cell")),
                rs.getInt("attempt"), rs.getInt("max_attempts"), SubmitState.of(rs.getString("submit_state")),
                instant(rs, "submitted_at"), rs.getString("remote_id"), Json.parse(rs.getString("remote")),
                rs.getDouble("progress"), integer(rs, "queue_position"), rs.getString("error_code"),
                rs.getString("error_message"), rs.getBigDecimal("cost"), integer(rs, "eta_seconds"),
                rs.getString("webhook_token"), Json.parse(rs.getString("callback")), rs.getInt("polls"),
                instant(rs, "next_at"), instant(rs, "deadline_at"), rs.getString("lease_owner"), instant(rs, "lease_until"),
                rs.getInt("version"), instant(rs, "created_at"), instant(rs, "started_at"), instant(rs, "finished_at"),
                instant(rs, "updated_at"), rs.getBoolean("deleted"), rs.getString("origin"), rs.getString("lane"));
    }
}

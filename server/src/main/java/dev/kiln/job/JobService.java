package dev.kiln.job;

import dev.kiln.account.AccountPool;
import dev.kiln.account.Eligibility;
import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.catalog.Binding;
import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.catalog.ParamResolver;
import dev.kiln.catalog.Rules;
import dev.kiln.config.KilnProperties;
import dev.kiln.credit.Ledger;
import dev.kiln.lane.Lane;
import dev.kiln.lane.Lanes;
import dev.kiln.lane.SubmissionLimiter;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import dev.kiln.support.Ids;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.event.TransactionalEventListener;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.node.ObjectNode;

/**
 * Accepting, cancelling and deleting jobs. Creation is two steps so that slow checks (fetching
 * input images) happen outside any transaction: {@link #check} validates everything and
 * {@link #plan} turns the request's variants into jobs (one for a job, {@code run.BatchExpansion}'s
 * for a run); {@link #insert} writes them in the caller's transaction.
 */
@Service
public class JobService {
    /** Attempts per job: the first submission plus retries after transient failures. */
    static final int MAX_ATTEMPTS = 3;

    private final Catalog catalog;
    private final AssetService assets;
    private final JobStore store;
    private final JobStateMachine machine;
    private final AccountPool pool;
    private final KilnProperties props;
    private final Clock clock;
    private final ApplicationEventPublisher events;
    private final Ledger ledger;
    private final WebhookTokens tokens;
    private final Outbox outbox;
    private final TransactionTemplate tx;
    private final Eligibility eligibility;
    private final Lanes lanes;
    private final SubmissionLimiter limiter;

    JobService(Catalog catalog, AssetService assets, JobStore store, JobStateMachine machine, AccountPool pool,
               KilnProperties props, Clock clock, ApplicationEventPublisher events, Ledger ledger, WebhookTokens tokens,
               Outbox outbox, TransactionTemplate tx, Eligibility eligibility, Lanes lanes, SubmissionLimiter limiter) {
        this.catalog = catalog;
        this.assets = assets;
        this.store = store;
        this.machine = machine;
        this.pool = pool;
        this.props = props;
        this.clock = clock;
        this.events = events;
        this.ledger = ledger;
        this.tokens = tokens;
        this.outbox = outbox;
        this.tx = tx;
        this.eligibility = eligibility;
        this.lanes = lanes;
        this.limiter = limiter;
    }

    /** At start-up: unfinished jobs whose model the configuration moved to another lane wait in that lane now. */
    @jakarta.annotation.PostConstruct
    void relane() {
        for (Model m : catalog.all()) store.relane(m.id(), lanes.of(m).name());
    }

    /** A validated request expanded into the jobs to insert, and who pays for them. */
    public record Plan(JobRequest request, List<JobStore.NewJob> jobs, List<Asset> inputs, Payer payer) {}

    /**
     * Who pays: a metered caller's jobs hold their cost in credits until they end; an admin may
     * overdraw (an admin is never refused for credits, but what they run is still booked).
     */
    public record Payer(String userId, boolean metered, boolean mayOverdraw) {
        static Payer of(Caller c) {
            return new Payer(c.id(), c.metered(), c.isAdmin());
        }
    }

    /** A request checked completely, its input images stored (by input name) and admitted; not yet jobs. */
    public record Checked(JobRequest request, Map<String, List<String>> inputIds, List<Asset> inputs) {}

    /** What one job of a request runs: its prompt, its parameters, and its grid cell (empty without a grid). */
    public record Variant(String prompt, Map<String, Object> params, Map<String, Object> cell) {}

    /** Checks a single {@code /v1} job request and plans its one job. */
    public Plan prepare(Caller caller, tools.jackson.databind.JsonNode body) {
        return planOne(caller, check(caller, body, false));
    }

    /** Checks a single typed job request (a façade's) and plans its one job. */
    public Plan prepare(Caller caller, GenerationRequest request) {
        return planOne(caller, check(caller, request, false));
    }

    private Plan planOne(Caller caller, Checked c) {
        return plan(caller, c, List.of(new Variant(c.request().prompts().getFirst(), c.request().params(), Map.of())), null);
    }

    /** {@link #check(Caller, GenerationRequest, boolean)} for a {@code /v1} JSON body. */
    public Checked check(Caller caller, tools.jackson.databind.JsonNode body, boolean run) {
        List<FieldError> errors = new ArrayList<>();
        return check(caller, JobRequest.parse(body, run, catalog, errors), errors);
    }

    /**
     * Validates a job ({@code run=false}) or run request completely — the caller's submission
     * rate, schema, catalogue, size limits, the lane's limits (before any input image is fetched,
     * so a refused request stores nothing), input images (fetched and stored). Errors name the
     * {@code /v1} fields.
     *
     * @throws KilnException 429 past the caller's submissions per minute, 422 listing every bad
     *     field, or 503 when the model's lane is over its depth or wait
     */
    public Checked check(Caller caller, GenerationRequest request, boolean run) {
        List<FieldError> errors = new ArrayList<>();
        return check(caller, JobRequest.check(request, run, catalog, errors), errors);
    }

    private Checked check(Caller caller, JobRequest req, List<FieldError> errors) {
        limiter.take(caller);
        if (req == null) throw KilnException.validation(errors);
        if (errors.isEmpty()) {
            long n = req.jobCount();
            if (n > props.maxRunJobs()) {
                errors.add(new FieldError(req.grid().isEmpty() ? (req.prompts().size() > 1 ? "prompts" : "count") : "grid",
                        "this run expands to " + n + " jobs (prompts × count × grid); at most " + props.maxRunJobs()
                                + " are allowed (KILN_MAX_RUN_JOBS)"));
            }
            if (req.model().bindings().stream().map(Binding::provider).noneMatch(pool::serves)) {
                errors.add(new FieldError("model", "no provider account can run " + req.model().id() + " (providers: "
                        + req.model().bindings().stream().map(Binding::provider).distinct().collect(Collectors.joining(", "))
                        + "); configure one, or run with KILN_SANDBOX=auto"));
            }
        }
        if (errors.isEmpty() && req.callback() != null) {
            String refusal = assets.refusalForCallback(req.callback().get("url").asString());
            if (refusal != null) errors.add(new FieldError("webhook.url", refusal));
        }
        // A first look at the lane (insert() decides, under the lane's lock), before anything is stored.
        if (errors.isEmpty()) admit(lanes.of(req.model()), req.jobCount());
        // Image content is checked last, and only when all else is right, so that a bad request
        // costs no downloads; what was stored for a request that fails is removed again.
        // No room for outputs (KILN_STORAGE_QUOTA): 507 now rather than jobs that cannot store what they make.
        if (errors.isEmpty()) assets.checkRoom();
        Map<String, List<String>> inputIds = new LinkedHashMap<>();
        List<Asset> inputs = new ArrayList<>();
        if (errors.isEmpty()) {
            for (Map.Entry<String, List<String>> e : req.images().entrySet()) {
                List<Asset> got = assets.ingestInputs(caller, "images." + e.getKey(), e.getValue(), errors);
                inputs.addAll(got);
                inputIds.put(e.getKey(), got.stream().map(Asset::id).toList());
            }
        }
        if (!errors.isEmpty()) {
            discard(req, inputs);
            throw KilnException.validation(errors);
        }
        return new Checked(req, inputIds, inputs);
    }

    /** Removes what a refused request stored; assets it referred to by asset:<id> were there before and stay. */
    private void discard(JobRequest req, List<Asset> inputs) {
        java.util.Set<String> reused = req.images().values().stream().flatMap(List::stream)
                .filter(r -> r.startsWith("asset:")).map(r -> r.substring(6)).collect(Collectors.toSet());
        inputs.stream().filter(a -> !reused.contains(a.id())).forEach(assets::delete);
    }

    /**
     * Checks the lane's limits again under its lock, reserves the jobs' credits and inserts them, in
     * the caller's transaction, and wakes the dispatcher at commit.
     *
     * @throws KilnException 503 when the lane is over its depth or wait, or 402 when a metered
     *     caller's balance does not cover them (either way nothing is written)
     */
    @Transactional
    public List<Job> insert(Plan plan) {
        if (!plan.jobs().isEmpty()) {
            String lane = plan.jobs().getFirst().lane();
            // Submissions to one lane pass here one at a time, so two cannot both fit under its depth.
            store.lockLane(lane, plan.jobs().size());
            admit(lanes.named(lane).orElse(lanes.of(plan.request().model())), plan.jobs().size());
        }
        if (plan.payer().metered()) {
            ledger.reserve(plan.payer().userId(),
                    plan.jobs().stream().map(j -> new Ledger.Hold(j.id(), j.cost())).toList(), plan.payer().mayOverdraw());
        }
        store.insertAll(plan.jobs());
        events.publishEvent(new JobsQueued(plan.jobs().size()));
        return plan.jobs().size() == 1
                ? List.of(store.find(plan.jobs().getFirst().id()).orElseThrow())
                : List.of();
    }

    /**
     * Refuses with 503 {@code queue_overloaded} when {@code adding} more jobs would pass the lane's
     * depth, or when its oldest queued job has waited longer than the lane allows.
     */
    private void admit(Lane lane, long adding) {
        if (!lane.limitsDepth() && !lane.limitsWait()) return;
        JobStore.LaneQueue q = store.laneQueue(lane.name());
        if (lane.limitsDepth() && q.queued() + adding > lane.maxDepth()) {
            Duration retry = retryAfter(lane, q.queued() + adding - lane.maxDepth());
            if (adding > lane.maxDepth()) {
                throw overloaded("the " + lane.name() + " lane holds at most " + lane.maxDepth() + " queued jobs and this submission has "
                        + adding, retry, "Submit at most " + lane.maxDepth() + " jobs at a time for this model: split the run into smaller ones.");
            }
            throw overloaded("the " + lane.name() + " lane is full: " + q.queued() + " jobs are queued and it holds at most "
                    + lane.maxDepth() + ", so " + adding + " more do not fit", retry,
                    "Retry in about " + retry.toSeconds() + " s, when the queue has room, or submit fewer jobs at once.");
        }
        if (lane.limitsWait() && q.oldestQueuedAt() != null) {
            Duration waited = Duration.between(q.oldestQueuedAt(), clock.instant());
            if (waited.compareTo(lane.maxWait()) > 0) {
                Duration retry = retryAfter(lane, 1);
                throw overloaded("the " + lane.name() + " lane is backed up: its oldest queued job has waited " + waited.toSeconds()
                        + " s, longer than the " + Math.max(1, lane.maxWait().toSeconds()) + " s it allows", retry,
                        "Retry in about " + retry.toSeconds() + " s, when the queue is moving again.");
            }
        }
    }

    private static KilnException overloaded(String detail, Duration retryAfter, String userAction) {
        return new KilnException(ErrorCode.QUEUE_OVERLOADED, detail, List.of(), retryAfter, userAction);
    }

    /**
     * An estimate of when the lane has room again: the time its running jobs take (their mean
     * estimated duration) to free as many places as are missing; without running jobs, the lane's
     * wait limit (or 30 s). Between 1 s and 10 minutes.
     */
    private Duration retryAfter(Lane lane, long missing) {
        JobStore.LaneWork w = store.laneWork(lane.name());
        long seconds = w.running() == 0 || w.meanEtaSeconds() == null
                ? (lane.limitsWait() ? lane.maxWait().toSeconds() : 30)
                : (long) Math.ceil(Math.max(1, missing) * Math.max(1.0, w.meanEtaSeconds()) / w.running());
        return Duration.ofSeconds(Math.clamp(seconds, 1, 600));
    }

    /** The jobs of a checked request, one per variant, in order (their index in the run, if any). */
    public Plan plan(Caller caller, Checked checked, List<Variant> variants, String runId) {
        JobRequest req = checked.request();
        Model m = req.model();
        Instant now = clock.instant();
        Duration timeout = m.timeout() != null ? m.timeout() : props.jobTimeout();
        String inputs = Json.write(checked.inputIds());
        ObjectNode callback = req.callback() == null ? null : (ObjectNode) req.callback();
        List<JobStore.NewJob> jobs = new ArrayList<>(variants.size());
        String lane = lanes.of(m).name();
        int index = 0;
        for (Variant v : variants) {
            Map<String, Object> params = new LinkedHashMap<>(v.params());
            ParamResolver.randomizeSeed(m, params);
            // What the model will really use (sizes raised to its minimum, values rounded as it rounds them), and why.
            List<String> notes = ParamResolver.adjust(m, params);
            Map<String, Object> vars = new LinkedHashMap<>(params);
            vars.put("sandbox_latency", props.sandboxLatency().toMillis() / 1000.0);
            BigDecimal cost = BigDecimal.valueOf(Rules.evaluate(m.cost(), vars)).setScale(4, RoundingMode.HALF_UP);
            int eta = (int) Math.ceil(Rules.evaluate(m.eta(), vars));
            String id = Ids.newId("job");
            jobs.add(new JobStore.NewJob(id, runId, runId == null ? null : index, caller.id(), m.id(),
                    req.mode(), req.priority(), v.prompt(), req.negativePrompt(), Json.write(params), inputs,
                    v.cell().isEmpty() ? null : Json.write(v.cell()), MAX_ATTEMPTS, cost, eta, tokens.digestForJob(id),
                    callback == null ? null : Json.write(callback), now.plus(timeout), now,
                    notes.isEmpty() ? null : String.join("; ", notes), req.origin(), lane));
            index++;
        }
        List<FieldError> unrunnable = unrunnable(req, variants);
        if (!unrunnable.isEmpty()) {
            discard(req, checked.inputs());
            throw KilnException.validation(unrunnable);
        }
        Payer payer = Payer.of(caller);
        if (payer.metered() && !payer.mayOverdraw()) {
            // A first look at the balance, so that a submission beyond it leaves nothing stored;
            // insert() decides atomically.
            BigDecimal total = jobs.stream().map(JobStore.NewJob::cost).reduce(BigDecimal.ZERO, BigDecimal::add);
            if (!ledger.covers(payer.userId(), total)) {
                discard(req, checked.inputs());
                throw ledger.insufficient(payer.userId(), total);
            }
        }
        return new Plan(req, jobs, checked.inputs(), payer);
    }

    /**
     * Why no account can run these jobs (e.g. no ComfyUI has the workflow's checkpoint or custom
     * node), per distinct set of parameters (seeds aside, which no account depends on): refused now
     * with 422 rather than left waiting for an account that will never take them.
     */
    private List<FieldError> unrunnable(JobRequest req, List<Variant> variants) {
        AccountPool.Cycle accounts = pool.cycle();
        java.util.Set<Map<String, Object>> seen = new java.util.HashSet<>();
        for (Variant v : variants) {
            Map<String, Object> values = new LinkedHashMap<>(v.params());
            values.remove("seed");
            if (!seen.add(values)) continue;
            values.putAll(v.params());
            values.put("prompt", v.prompt());
            values.put("negative_prompt", req.negativePrompt());
            values.put("mode", req.mode());
            values.put("model", req.model().id());
            List<FieldError> why = eligibility.refusal(req.model(), req.mode(), values, accounts);
            if (!why.isEmpty()) return why;
        }
        return List.of();
    }

    /** Which API created the job with this id ({@code v1} or a façade's id), whoever owns it. */
    public java.util.Optional<String> originOf(String id) {
        return store.find(id).filter(j -> !j.deleted()).map(Job::origin);
    }

    /** The job if the caller may see it. */
    public Job get(Caller caller, String id) {
        Job j = store.find(id).orElse(null);
        if (j == null || j.deleted() || !caller.owns(j.ownerId())) throw KilnException.notFound("job", id);
        return j;
    }

    /**
     * Cancels a job; a terminal job is returned unchanged. A job the provider already has is
     * cancelled there too (by the engine, right after this commit).
     */
    public Job cancel(Caller caller, String id) {
        get(caller, id);
        for (int i = 0; i < 10; i++) {
            Job j = store.find(id).orElseThrow(() -> KilnException.notFound("job", id));
            if (j.status().terminal()) return j;
            boolean remote = j.status() == JobStatus.RUNNING && j.remoteId() != null;
            try {
                return machine.apply(j, JobChange.to(JobStatus.CANCELED, remote ? Phase.CANCEL : Phase.DONE, "cancelled by " + caller.id())
                        .nextAt(remote ? clock.instant() : null));
            } catch (ConcurrentJobChange e) {
                // Raced with the engine; read again and retry.
            }
        }
        throw KilnException.conflict("job " + id + " is changing too fast to cancel; try again");
    }

    /** Deletes a job and its outputs; an active job is cancelled first and purged once that is done. */
    public void delete(Caller caller, String id) {
        Job j = cancel(caller, id);
        store.markDeleted(id);
        if (j.phase() == Phase.DONE) purge(id);
    }

    @TransactionalEventListener
    void onJobEvent(JobEvent e) {
        if (e.job().deleted() && e.job().phase() == Phase.DONE) purge(e.job().id());
    }

    private void purge(String id) {
        assets.deleteForJob(id);
        store.delete(id);
    }

    /**
     * Removes up to {@code limit} jobs that finished before {@code before} — the row, its history,
     * its client-webhook deliveries and its outputs (files no other asset uses) — each job in its
     * own transaction (retention, {@code KILN_RETAIN_JOBS}).
     *
     * @return how many jobs were removed
     */
    public int purgeFinished(Instant before, int limit) {
        List<String> ids = store.finishedBefore(before, limit);
        for (String id : ids) {
            tx.executeWithoutResult(s -> {
                outbox.deleteForJob(id);
                purge(id);
            });
        }
        return ids.size();
    }

    /** Lists jobs visible to the caller, newest first. */
    public List<Job> list(Caller caller, JobStore.Filter filter, String before, int limit) {
        JobStore.Filter f = caller.isAdmin() ? filter
                : new JobStore.Filter(caller.id(), filter.status(), filter.model(), filter.runId());
        return store.list(f, before, limit);
    }

    /** One page of jobs and how many there are in all. */
    public record Page(List<Job> items, long total) {}

    /**
     * A page of the caller's own jobs (newest first), for APIs that page by number; see
     * {@link JobStore.PageFilter} (its owner is always the caller).
     */
    public Page page(Caller caller, JobStore.PageFilter filter, long offset, int limit) {
        JobStore.PageFilter f = new JobStore.PageFilter(filter.origin(), caller.id(), filter.statuses(), filter.modelModes());
        return new Page(store.page(f, offset, limit), store.count(f));
    }

    /** How many jobs Kiln holds per model. */
    public Map<String, Long> countByModel() {
        return store.countByModel();
    }

    /**
     * Jobs a seed façade created ({@code origin}) that the caller may see (an admin sees all),
     * newest first, optionally of one model and status.
     */
    public List<Job> listByOrigin(Caller caller, String origin, String model, JobStatus status, String before, int limit) {
        return store.listByOrigin(origin, caller.isAdmin() ? null : caller.id(), model, status, before, limit);
    }

    /** Per status, how many jobs a seed façade created ({@code origin}) the caller may see, optionally of one model. */
    public Map<JobStatus, Integer> countByOrigin(Caller caller, String origin, String model) {
        return store.countByOrigin(origin, caller.isAdmin() ? null : caller.id(), model);
    }

    /**
     * Where a queued job stands in its lane, in the dispatcher's fair order (0 = next); else the
     * position its provider reported, if any.
     */
    public Integer queuePosition(Job j) {
        return queuePositions(List.of(j)).get(j.id());
    }

    /** {@link #queuePosition} of many jobs, in one query per lane and 500 jobs. */
    public Map<String, Integer> queuePositions(List<Job> list) {
        Map<String, Integer> out = new java.util.HashMap<>(store.queuePositions(list));
        for (Job j : list) if (!out.containsKey(j.id()) && j.status() != JobStatus.QUEUED && j.queuePosition() != null) out.put(j.id(), j.queuePosition());
        return out;
    }

    public List<JobStore.HistoryEntry> history(Job j) {
        return store.history(j.id());
    }
}

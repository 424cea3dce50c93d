package dev.kiln.engine;

import dev.kiln.account.Account;
import dev.kiln.account.AccountPool;
import dev.kiln.account.AccountStore;
import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.asset.StorageFullException;
import dev.kiln.asset.StoredMedia;
import dev.kiln.asset.storage.StorageUnavailableException;
import dev.kiln.catalog.Binding;
import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.config.KilnProperties;
import dev.kiln.job.ConcurrentJobChange;
import dev.kiln.job.Job;
import dev.kiln.job.JobChange;
import dev.kiln.job.JobStateMachine;
import dev.kiln.job.JobStatus;
import dev.kiln.job.JobStore;
import dev.kiln.job.Phase;
import dev.kiln.job.SubmitState;
import dev.kiln.job.WebhookTokens;
import dev.kiln.provider.Download;
import dev.kiln.provider.InputImage;
import dev.kiln.provider.OutputRef;
import dev.kiln.provider.PollPolicy;
import dev.kiln.provider.Provider;
import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.ProviderException;
import dev.kiln.provider.Providers;
import dev.kiln.provider.Reconciliation;
import dev.kiln.provider.RemoteRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.support.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Drives one leased job through its phases: submit (or reconcile an ambiguous submit), track,
 * fetch the outputs, cancel at the provider. Slow work (HTTP, files) happens outside any
 * transaction; every change goes through {@link JobStateMachine}. Short waits (a poll due within
 * a few seconds) are spent in memory while keeping the lease, so a job that finishes quickly costs
 * no extra claims; longer waits are handed back to the database schedule.
 */
@Component
class JobRunner {
    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    /** The longest wait spent in memory; longer ones go back to the tracker. */
    static final Duration HOT_WAIT = Duration.ofSeconds(5);
    /** How long after an ambiguous submit Kiln asks the provider what it received. */
    static final Duration RECONCILE_DELAY = Duration.ofSeconds(10);
    /** Time allowed to copy outputs the provider finished before the deadline. */
    static final Duration FETCH_GRACE = Duration.ofMinutes(2);
    static final long MAX_OUTPUT_BYTES = 2L * 1024 * 1024 * 1024;
    private static final int MAX_FETCH_TRIES = 6;
    private static final int MAX_CANCEL_TRIES = 5;
    private static final int DB_WRITE_TRIES = 8;

    private final JobStore store;
    private final JobStateMachine machine;
    private final Providers providers;
    private final AccountStore accounts;
    private final AccountPool pool;
    private final Catalog catalog;
    private final AssetService assets;
    private final KilnProperties props;
    private final Clock clock;
    private final LocalJobs local;
    private final Instance instance;
    private final TransactionTemplate tx;
    private final WebhookTokens tokens;

    JobRunner(JobStore store, JobStateMachine machine, Providers providers, AccountStore accounts, AccountPool pool,
              Catalog catalog, AssetService assets, KilnProperties props, Clock clock, LocalJobs local, Instance instance,
              TransactionTemplate tx, WebhookTokens tokens) {
        this.store = store;
        this.machine = machine;
        this.providers = providers;
        this.accounts = accounts;
        this.pool = pool;
        this.catalog = catalog;
        this.assets = assets;
        this.props = props;
        this.clock = clock;
        this.local = local;
        this.instance = instance;
        this.tx = tx;
        this.tokens = tokens;
    }

    /**
     * Drives a job this process has leased until it is done or waits longer than {@link #HOT_WAIT}.
     *
     * @param freshIntent true when the dispatcher just recorded the intent to submit, so the
     *     provider has certainly not been called yet for this attempt
     */
    void drive(Job job, boolean freshIntent) {
        local.register(job.id());
        try {
            Drive d = new Drive(freshIntent, job.polls());
            Job j = job;
            while (j != null) {
                j = step(j, d);
                d.fresh = false;
            }
        } catch (ConcurrentJobChange e) {
            // Changed under us (a cancel, usually): let the tracker look at it afresh.
            store.releaseLease(job.id(), instance.id());
        } catch (InterruptedException e) {
            // Release first: a JDBC call on an interrupted thread may fail (H2 closes its file channel).
            try {
                store.releaseLease(job.id(), instance.id());
            } finally {
                Thread.currentThread().interrupt();
            }
        } catch (TransientDataAccessException | DataAccessResourceFailureException e) {
            log.warn("job {}: the database is busy ({}); the job resumes when its lease expires", job.id(), e.getMessage());
        } catch (RuntimeException e) {
            log.error("job {} hit an unexpected error; it will be retried when its lease expires", job.id(), e);
        } finally {
            local.unregister(job.id());
        }
    }

    /** What a runner remembers between steps without writing it: the poll count of hot polls. */
    private static final class Drive {
        boolean fresh;
        int polls;

        Drive(boolean fresh, int polls) {
            this.fresh = fresh;
            this.polls = polls;
        }
    }

    private Job step(Job j, Drive d) throws InterruptedException {
        Instant now = clock.instant();
        if (!j.status().terminal() && !now.isBefore(j.deadlineAt())
                && !(j.phase() == Phase.FETCH && now.isBefore(j.deadlineAt().plus(FETCH_GRACE)))) {
            return timeOut(j);
        }
        return switch (j.phase()) {
            case DISPATCH -> {
                store.releaseLease(j.id(), instance.id());
                yield null;
            }
            case SUBMIT -> d.fresh && j.submitState() == SubmitState.INTENT ? submit(j, d) : reconcile(j, d);
            case TRACK -> poll(j, d);
            case FETCH -> fetchRemembered(j);
            case CANCEL -> cancelRemote(j);
            case DONE -> null;
        };
    }

    // ---- submit ---------------------------------------------------------------------------------

    private Job submit(Job j, Drive d) throws InterruptedException {
        Context c = context(j);
        if (c == null) return null;
        try {
            Submitted s = c.provider.submit(c.account.toProviderAccount(), request(j, c));
            pool.succeeded(c.account);
            return submitted(j, c, s, d);
        } catch (ProviderException.Ambiguous | ProviderException.Malformed e) {
            log.warn("job {}: submit to {} is ambiguous ({}); will reconcile", j.id(), c.account.provider(), e.getMessage());
            // Ask only after a pause: the request may still be on its way to the provider.
            Instant at = clock.instant().plus(RECONCILE_DELAY);
            Job t = machine.apply(j, JobChange.fields().nextAt(at).lease(instance.id(), leaseUntil(at)));
            return waitFor(t);
        } catch (ProviderException e) {
            return submitFailed(j, c, e);
        }
    }

    private Job submitFailed(Job j, Context c, ProviderException e) {
        String msg = e.getMessage();
        return switch (e) {
            case ProviderException.RateLimited rl -> {
                pool.rateLimited(c.account.id(), rl.retryAfter());
                Duration wait = rl.retryAfter() != null ? rl.retryAfter() : Backoff.retry(j.attempt());
                yield requeue(j, c, "rate_limited", msg, wait, false, true);
            }
            case ProviderException.Unavailable u -> {
                pool.failed(c.account.id(), msg);
                yield requeue(j, c, "provider_unavailable", msg, Backoff.retry(j.attempt()), true, true);
            }
            case ProviderException.AuthFailed a -> {
                pool.failed(c.account.id(), msg);
                yield requeue(j, c, "provider_auth_failed", msg, Backoff.retry(1), false, true);
            }
            case ProviderException.NotFound nf -> fail(j, "provider_rejected", msg);
            case ProviderException.Rejected r -> fail(j, "provider_rejected", msg);
            case ProviderException.Ambiguous a -> throw new IllegalStateException(a);
            case ProviderException.Malformed m -> throw new IllegalStateException(m);
        };
    }

    /** Records the remote id; if the job was cancelled meanwhile, tells the provider to stop. */
    private Job submitted(Job j, Context c, Submitted s, Drive d) throws InterruptedException {
        d.polls = 0;
        // A webhook may have come while the submit was in flight (fast providers, sync modes):
        // then the first poll is now, not at the ETA.
        Instant firstPoll = local.takeNudge(j.id()) ? clock.instant() : clock.instant().plus(firstPollDelay(j, c));
        Job t;
        try {
            // The one write that must not be lost to a busy database: without it the job would
            // need a reconcile (or fail as ambiguous) although the provider answered.
            t = durably(() -> machine.apply(j, JobChange.phase(Phase.TRACK).remoteId(s.remoteId()).remote(s.remote())
                    .submitState(SubmitState.SENT).nextAt(firstPoll).polls(0).clearError()
                    .lease(instance.id(), leaseUntil(firstPoll))));
        } catch (ConcurrentJobChange e) {
            Job now = store.find(j.id()).orElse(null);
            if (now != null && now.status().terminal()) {
                // Cancelled or timed out while the submit was in flight: stop the remote job too.
                machine.apply(now, JobChange.phase(Phase.CANCEL).remoteId(s.remoteId()).remote(s.remote())
                        .submitState(SubmitState.SENT).nextAt(clock.instant()).lease(instance.id(), leaseUntil(clock.instant())));
                return store.find(j.id()).orElse(null);
            }
            throw e;
        }
        if (s.status() != null && !(s.status() instanceof RemoteStatus.Pending)) return handle(t, c, s.status(), d);
        return waitFor(t);
    }

    /** Retries a write through transient database trouble (lock timeouts, a pool that is briefly exhausted). */
    private static <T> T durably(java.util.function.Supplier<T> write) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return write.get();
            } catch (TransientDataAccessException | DataAccessResourceFailureException e) {
                if (attempt >= DB_WRITE_TRIES) throw e;
                log.debug("database busy ({}); retrying the write", e.getMessage());
                Thread.sleep(Backoff.of(Duration.ofMillis(50), 2, Duration.ofSeconds(2), attempt - 1));
            }
        }
    }

    private Job reconcile(Job j, Drive d) throws InterruptedException {
        Instant at = j.submittedAt() == null ? clock.instant() : j.submittedAt().plus(RECONCILE_DELAY);
        if (clock.instant().isBefore(at)) {
            Job t = machine.apply(j, JobChange.fields().nextAt(at).lease(instance.id(), leaseUntil(at)));
            return waitFor(t);
        }
        Context c = context(j);
        if (c == null) return null;
        Reconciliation r;
        try {
            r = c.provider.reconcile(c.account.toProviderAccount(), request(j, c), j.submittedAt());
        } catch (ProviderException e) {
            r = new Reconciliation.NotYet(e.getMessage());
        }
        return switch (r) {
            case Reconciliation.Found f when !store.remoteIdTaken(j.provider(), f.submitted().remoteId(), j.id()) -> {
                log.info("job {}: reconciled with remote job {}", j.id(), f.submitted().remoteId());
                yield submitted(j, c, f.submitted(), d);
            }
            case Reconciliation.Found f -> fail(j, "ambiguous_submission",
                    "Kiln could not tell whether " + j.provider() + " received this job (the only match belongs to another job); "
                            + "it was not resubmitted to avoid paying twice");
            case Reconciliation.NotFound nf -> {
                log.info("job {}: {} never received the submission; submitting now", j.id(), j.provider());
                yield resubmit(j, d);
            }
            case Reconciliation.Unconfirmed u -> {
                // Each candidate another job tracks is provably not this one; the rest cannot be told apart.
                List<String> unclaimed = store.unclaimedRemoteIds(j.provider(), u.remoteIds(), j.id());
                if (unclaimed.isEmpty()) {
                    log.info("job {}: every {} job since the submit belongs to another job; submitting now", j.id(), j.provider());
                    yield resubmit(j, d);
                }
                yield fail(j, "ambiguous_submission", "Kiln could not tell whether " + j.provider() + " received this job ("
                        + u.reason() + "; " + unclaimed.size() + " of them belong to no other job); it was not resubmitted to avoid paying twice");
            }
            case Reconciliation.NotYet n -> {
                Instant next = clock.instant().plus(Backoff.of(Duration.ofSeconds(5), 2, Duration.ofMinutes(2), j.polls()));
                if (!next.isBefore(j.deadlineAt())) {
                    yield fail(j, "ambiguous_submission", "Kiln could not tell whether " + j.provider()
                            + " received this job before its deadline (" + n.reason() + "); it was not resubmitted to avoid paying twice");
                }
                log.info("job {}: cannot reconcile yet ({}); asking again at {}", j.id(), n.reason(), next);
                yield waitFor(machine.apply(j, JobChange.fields().polls(j.polls() + 1).nextAt(next).lease(instance.id(), leaseUntil(next))));
            }
            case Reconciliation.Unknown u -> fail(j, "ambiguous_submission",
                    "Kiln could not tell whether " + j.provider() + " received this job (" + u.reason()
                            + "); it was not resubmitted to avoid paying twice");
        };
    }

    /** Submits again after the provider's records proved the first submission never arrived. */
    private Job resubmit(Job j, Drive d) throws InterruptedException {
        Job t = machine.apply(j, JobChange.fields().submittedAt(clock.instant()));
        return submit(t, d);
    }

    // ---- track ----------------------------------------------------------------------------------

    private Job poll(Job j, Drive d) throws InterruptedException {
        Context c = context(j);
        if (c == null) return null;
        RemoteStatus st;
        d.polls++;
        try {
            st = c.provider.poll(c.account.toProviderAccount(), new RemoteRef(j.remoteId(), j.remote()));
        } catch (ProviderException.RateLimited e) {
            pool.rateLimited(c.account.id(), e.retryAfter());
            return pollLater(j, c, e.retryAfter() != null ? e.retryAfter() : pollInterval(c, d.polls), true, d);
        } catch (ProviderException.NotFound e) {
            if (c.account.sandbox()) {
                // The sandbox's emulators (all but WaveSpeed's) forget their jobs when Kiln restarts.
                // Nothing was paid, so the job simply runs again rather than fail a demo or a test.
                return requeue(j, c, "sandbox_lost", "the sandbox lost this job (Kiln restarted); it runs again",
                        Duration.ZERO, true, false);
            }
            return fail(j, "remote_lost", "the provider no longer knows this job: " + e.getMessage());
        } catch (ProviderException e) {
            log.debug("job {}: poll failed: {}", j.id(), e.getMessage());
            return pollLater(j, c, Backoff.of(Duration.ofSeconds(1), 2, Duration.ofMinutes(1), d.polls - 1), true, d);
        }
        return handle(j, c, st, d);
    }

    private Job handle(Job j, Context c, RemoteStatus st, Drive d) throws InterruptedException {
        return switch (st) {
            case RemoteStatus.Pending p -> {
                boolean changed = Math.abs(p.progress() - j.progress()) > 0.005
                        || !java.util.Objects.equals(p.queuePosition(), j.queuePosition());
                Job t = j;
                if (changed) t = machine.apply(j, JobChange.fields().progress(p.progress()).queuePosition(p.queuePosition()));
                yield pollLater(t, c, pollInterval(c, d.polls), false, d);
            }
            case RemoteStatus.Succeeded s -> fetch(j, c, s.outputs(), s.runTime());
            case RemoteStatus.Failed f when f.retryable() -> requeue(j, c, f.code(), f.message(), Backoff.retry(j.attempt()), true, false);
            case RemoteStatus.Failed f -> fail(j, f.code(), f.message());
            case RemoteStatus.Canceled x -> fail(j, "provider_canceled", "the job was cancelled at the provider"
                    + (x.message() == null ? "" : ": " + x.message()));
        };
    }

    /** Schedules the next poll; waits in memory when it is soon, else hands the job to the tracker. */
    private Job pollLater(Job j, Context c, Duration wait, boolean force, Drive d) throws InterruptedException {
        Instant at = clock.instant().plus(wait);
        boolean hot = wait.compareTo(HOT_WAIT) <= 0;
        if (hot && !force) {
            // The schedule in the row only matters after a crash, when any time in the past will do;
            // the lease is renewed only when less than half of it would be left at the next step.
            if (j.leaseUntil() == null || j.leaseUntil().isBefore(at.plus(props.lease().dividedBy(2)))) {
                store.renewLease(j.id(), instance.id(), leaseUntil(at));
            }
            return waitUntil(j, at);
        }
        Job t = machine.apply(j, JobChange.fields().polls(d.polls).nextAt(at)
                .lease(hot ? instance.id() : null, hot ? leaseUntil(at) : null));
        return hot ? waitUntil(t, at) : null;
    }

    /** Waits until the job's next step (or a nudge), then reloads it; null when the wait is long. */
    private Job waitFor(Job j) throws InterruptedException {
        return j.nextAt() == null ? null : waitUntil(j, j.nextAt());
    }

    private Job waitUntil(Job j, Instant at) throws InterruptedException {
        Duration d = Duration.between(clock.instant(), at);
        if (d.compareTo(HOT_WAIT) > 0) {
            store.releaseLease(j.id(), instance.id());
            return null;
        }
        if (!d.isNegative()) local.await(j.id(), d);
        Job r = store.find(j.id()).orElse(null);
        if (r == null || (!instance.id().equals(r.leaseOwner()) && r.phase() != Phase.DONE)) return null;
        return r;
    }

    private Duration firstPollDelay(Job j, Context c) {
        PollPolicy pp = c.provider.pollPolicy(c.account.toProviderAccount(), c.model.kind());
        Duration eta = c.account.sandbox() ? props.sandboxLatency()
                : Duration.ofSeconds(j.etaSeconds() == null ? 0 : j.etaSeconds());
        // Poll just after the expected finish, never sooner than the provider allows.
        Duration d = eta.plusMillis(eta.toMillis() / 50 + 5);
        return d.compareTo(pp.minInterval()) < 0 ? pp.minInterval() : d;
    }

    private Duration pollInterval(Context c, int n) {
        PollPolicy pp = c.provider.pollPolicy(c.account.toProviderAccount(), c.model.kind());
        return Backoff.of(pp.minInterval(), pp.growth(), pp.maxInterval(), n - 1);
    }

    // ---- fetch ----------------------------------------------------------------------------------

    private Job fetch(Job j, Context c, List<OutputRef> outputs, Duration runTime) throws InterruptedException {
        if (outputs.isEmpty()) return fail(j, "no_outputs", "the provider finished without any output");
        List<StoredMedia> stored = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            OutputRef ref = outputs.get(i);
            try (Download d = c.provider.open(c.account.toProviderAccount(), ref)) {
                stored.add(assets.storeOutput(d.body(), ref.mime() != null ? ref.mime() : d.contentType(), MAX_OUTPUT_BYTES));
            } catch (ProviderException.NotFound | ProviderException.AuthFailed | ProviderException.Rejected e) {
                return fail(j, "output_unavailable", "output " + (i + 1) + " of " + outputs.size()
                        + " could not be downloaded: " + e.getMessage());
            } catch (StorageUnavailableException | StorageFullException e) {
                // Kiln's own storage, not the provider: wait for it until the deadline without
                // using up the download tries; the job is not succeeded until its files are stored.
                return fetchLater(j, c, outputs, runTime, e instanceof StorageFullException ? "storage_full" : "storage_unavailable",
                        e.getMessage(), false);
            } catch (ProviderException | IOException | UncheckedIOException e) {
                return fetchLater(j, c, outputs, runTime, "fetch_retrying", e.getMessage(), true);
            } catch (dev.kiln.asset.MediaException e) {
                return fail(j, "output_invalid", "output " + (i + 1) + " is not a usable file: " + e.getMessage());
            }
        }
        Job done = tx.execute(s -> {
            for (int i = 0; i < stored.size(); i++) {
                assets.insertOutput(j.id(), i, j.ownerId(), stored.get(i), c.account.sandbox(), metadata(j, c, outputs.get(i)));
            }
            return machine.apply(j, JobChange.to(JobStatus.SUCCEEDED, Phase.DONE, stored.size() + " output(s) stored")
                    .clearError().remote(withRunTime(withoutOutputs(j.remote()), runTime)));
        });
        pool.succeeded(c.account);
        return done;
    }

    /** A download failed for a passing reason: remember the outputs and try again later. */
    private Job fetchLater(Job j, Context c, List<OutputRef> outputs, Duration runTime, String code, String error, boolean countsTry) {
        int tries = j.remote() != null ? j.remote().path("fetch_tries").asInt(0) + (countsTry ? 1 : 0) : (countsTry ? 1 : 0);
        if (tries > MAX_FETCH_TRIES) return fail(j, "output_unavailable", "outputs could not be downloaded: " + error);
        int waits = j.remote() != null ? j.remote().path("store_waits").asInt(0) + (countsTry ? 0 : 1) : (countsTry ? 0 : 1);
        boolean inline = outputs.stream().anyMatch(OutputRef::isInline);
        ObjectNode remote = j.remote() != null && j.remote().isObject() ? ((ObjectNode) j.remote()).deepCopy() : Json.object();
        remote.put("fetch_tries", tries);
        if (waits > 0) remote.put("store_waits", waits);
        if (runTime != null) remote.put(Job.PROVIDER_RUN_MS, runTime.toMillis());
        Instant at = clock.instant().plus(countsTry ? Backoff.of(Duration.ofSeconds(2), 2, Duration.ofMinutes(1), tries - 1)
                : Backoff.of(Duration.ofSeconds(1), 2, Duration.ofSeconds(30), waits - 1));
        if (inline) {
            // Inline data is not kept in the database: poll again to get it.
            machine.apply(j, JobChange.fields().remote(remote).nextAt(at).releaseLease());
            return null;
        }
        ArrayNode refs = remote.putArray("outputs");
        outputs.forEach(o -> refs.add(Json.object().put("url", o.url()).put("mime", o.mime()).put("filename", o.filename())));
        machine.apply(j, JobChange.phase(Phase.FETCH).remote(remote).nextAt(at).releaseLease()
                .error(code, (countsTry ? "downloading outputs failed, retrying: " : "storing outputs failed, retrying: ") + error));
        return null;
    }

    private Job fetchRemembered(Job j) throws InterruptedException {
        Context c = context(j);
        if (c == null) return null;
        List<OutputRef> refs = new ArrayList<>();
        JsonNode outs = j.remote() == null ? null : j.remote().get("outputs");
        if (outs != null) {
            for (JsonNode o : outs) refs.add(new OutputRef(o.path("url").asString(null), null,
                    o.path("mime").asString(null), o.path("filename").asString(null)));
        }
        JsonNode ms = j.remote() == null ? null : j.remote().get(Job.PROVIDER_RUN_MS);
        return fetch(j, c, refs, ms != null && ms.canConvertToLong() ? Duration.ofMillis(ms.asLong()) : null);
    }

    /** Keeps what the provider said the work took ({@link Job#providerRunMillis()}). */
    private static JsonNode withRunTime(JsonNode remote, Duration runTime) {
        if (runTime == null) return remote;
        ObjectNode r = remote != null && remote.isObject() ? ((ObjectNode) remote).deepCopy() : Json.object();
        r.put(Job.PROVIDER_RUN_MS, runTime.toMillis());
        return r;
    }

    private static JsonNode withoutOutputs(JsonNode remote) {
        if (remote == null || !remote.isObject()) return remote;
        ObjectNode r = ((ObjectNode) remote).deepCopy();
        r.remove("outputs");
        r.remove("fetch_tries");
        r.remove("store_waits");
        return r;
    }

    /** What is recorded with an output: how it was made, and the file name the provider gave it (ComfyUI's {@code ComfyUI_00001_.png}). */
    private JsonNode metadata(Job j, Context c, OutputRef output) {
        ObjectNode m = Json.object();
        if (output.filename() != null && !output.filename().isBlank()) m.put("filename", output.filename());
        m.put("job_id", j.id());
        m.put("run_id", j.runId());
        m.put("model", j.model());
        m.put("mode", j.mode());
        m.put("prompt", j.prompt());
        m.put("negative_prompt", j.negativePrompt());
        m.set("params", j.params());
        m.put("provider", j.provider());
        m.put("remote_id", j.remoteId());
        if (c.account.sandbox()) m.put("sandbox", true);
        return m;
    }

    // ---- endings ----------------------------------------------------------------------------------

    private Job timeOut(Job j) {
        String msg = "the job did not finish within its deadline (" + Duration.between(j.createdAt(), j.deadlineAt()).toMinutes()
                + " min)" + (j.status() == JobStatus.QUEUED ? " while waiting in the queue" : "");
        boolean remote = j.status() == JobStatus.RUNNING && j.remoteId() != null;
        return machine.apply(j, JobChange.to(JobStatus.TIMED_OUT, remote ? Phase.CANCEL : Phase.DONE, "deadline passed")
                .error("timeout", msg).nextAt(remote ? clock.instant() : null)
                .lease(remote ? instance.id() : null, remote ? leaseUntil(clock.instant()) : null));
    }

    private Job cancelRemote(Job j) {
        Context c = context(j);
        if (c != null && j.remoteId() != null) {
            try {
                c.provider.cancel(c.account.toProviderAccount(), new RemoteRef(j.remoteId(), j.remote()));
            } catch (ProviderException.NotFound e) {
                // Already gone at the provider.
            } catch (ProviderException e) {
                if (j.polls() + 1 < MAX_CANCEL_TRIES && !(e instanceof ProviderException.Rejected)) {
                    machine.apply(j, JobChange.fields().polls(j.polls() + 1)
                            .nextAt(clock.instant().plus(Backoff.of(Duration.ofSeconds(2), 2, Duration.ofMinutes(1), j.polls())))
                            .releaseLease());
                    return null;
                }
                log.warn("job {}: could not cancel remote job {}: {}", j.id(), j.remoteId(), e.getMessage());
            }
        }
        return machine.apply(j, JobChange.phase(Phase.DONE));
    }

    private Job fail(Job j, String code, String message) {
        if (j.status().terminal()) return machine.apply(j, JobChange.phase(Phase.DONE));
        return machine.apply(j, JobChange.to(JobStatus.FAILED, Phase.DONE, code).error(code, message));
    }

    /**
     * Sends the job back to the queue for a new attempt after {@code wait}, moving to the next
     * binding when this provider cannot serve it; fails it when the attempts are used up.
     */
    private Job requeue(Job j, Context c, String code, String message, Duration wait, boolean countsAttempt, boolean beforeRemote) {
        int attempt = countsAttempt ? j.attempt() : j.attempt() - 1;
        if (countsAttempt && j.attempt() >= j.maxAttempts()) {
            return fail(j, code, message + " (gave up after " + j.attempt() + " attempts)");
        }
        int binding = j.bindingIndex();
        if (beforeRemote && binding + 1 < c.model.bindings().size() && pool.serves(c.model.bindings().get(binding + 1).provider())) {
            binding++;
            wait = Duration.ZERO;
        }
        return machine.apply(j, JobChange.to(JobStatus.QUEUED, Phase.DISPATCH, code).attempt(Math.max(0, attempt))
                .submitState(SubmitState.NONE).bindingIndex(binding).remoteId(null).remote(null).progress(0)
                .error(code, message).nextAt(clock.instant().plus(wait)).releaseLease());
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private record Context(Model model, Binding binding, Provider provider, Account account) {}

    private Context context(Job j) {
        Model m = catalog.find(j.model()).orElse(null);
        Account a = j.accountId() == null ? null : accounts.find(j.accountId()).orElse(null);
        Provider p = j.provider() == null ? null : providers.find(j.provider()).orElse(null);
        if (m == null || a == null || p == null || j.bindingIndex() >= m.bindings().size()) {
            String why = m == null ? "model " + j.model() + " is no longer in the catalogue"
                    : a == null ? "its provider account was removed" : "provider " + j.provider() + " is not available";
            if (j.status().terminal()) machine.apply(j, JobChange.phase(Phase.DONE));
            else fail(j, "provider_unavailable", why);
            return null;
        }
        return new Context(m, m.bindings().get(j.bindingIndex()), p, a);
    }

    private SubmitRequest request(Job j, Context c) {
        Map<String, Object> values = new LinkedHashMap<>();
        if (j.params() != null) j.params().properties().forEach(e -> values.put(e.getKey(), Json.MAPPER.convertValue(e.getValue(), Object.class)));
        values.put("prompt", j.prompt());
        values.put("negative_prompt", j.negativePrompt());
        values.put("mode", j.mode());
        values.put("model", j.model());
        values.put("job_id", j.id());
        Map<String, List<InputImage>> images = new LinkedHashMap<>();
        if (j.inputs() != null) {
            j.inputs().properties().forEach(e -> {
                List<InputImage> list = new ArrayList<>();
                for (JsonNode id : e.getValue()) {
                    Asset a = assets.find(id.asString()).orElseThrow(() -> new IllegalStateException("input asset " + id + " is gone"));
                    list.add(assets.toInputImage(a));
                }
                images.put(e.getKey(), list);
            });
        }
        String webhook = props.webhookBase() == null ? null
                : props.webhookBase() + "/webhooks/" + j.provider() + "?token=" + tokens.forJob(j.id());
        Duration eta = Duration.ofSeconds(j.etaSeconds() == null ? 0 : j.etaSeconds());
        return new SubmitRequest(j.id(), j.attempt(), j.model(), j.mode(), c.model.kind(), c.binding.remoteFor(j.mode()),
                c.binding.inputFor(j.mode()), c.binding.values(values), images, webhook, j.deadlineAt(), eta);
    }

    private Instant leaseUntil(Instant busyUntil) {
        Instant base = busyUntil.isAfter(clock.instant()) ? busyUntil : clock.instant();
        return base.plus(props.lease());
    }
}

package dev.kiln.api;

import dev.kiln.account.Account;
import dev.kiln.account.AccountAdmin;
import dev.kiln.job.JobStatus;
import dev.kiln.job.JobStore;
import dev.kiln.lane.Lane;
import dev.kiln.lane.Lanes;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** Admin: the lanes (queues, their limits and load) and the totals of jobs and provider accounts. */
@Tag(name = "Admin: lanes and stats", description = "Queues, their limits and load; job and account totals")
@RestController
class AdminLaneController {
    private final Lanes lanes;
    private final JobStore jobs;
    private final AccountAdmin accounts;
    private final Clock clock;

    AdminLaneController(Lanes lanes, JobStore jobs, AccountAdmin accounts, Clock clock) {
        this.lanes = lanes;
        this.jobs = jobs;
        this.accounts = accounts;
        this.clock = clock;
    }

    /**
     * One lane: what it takes, its limits (0 = none), and its load now.
     *
     * @param configured false for a lane that unfinished jobs still name but the configuration no longer has
     * @param serves the catalogue models whose jobs wait in it
     * @param depth jobs queued in it
     * @param oldestWaitSeconds how long its oldest queued job has waited (0 when none)
     * @param admitted jobs it admitted (since its first submission)
     * @param overloaded whether a submission of one job would be refused now
     */
    record LaneView(String name, boolean configured, List<String> kinds, List<String> providers, List<String> models,
                    List<String> serves, int maxDepth, double maxWaitSeconds, int depth, int running, double oldestWaitSeconds,
                    long admitted, boolean overloaded) {}

    /** The lanes, and the per-user caps that apply inside every lane (0 = none; none in local mode). */
    record LanesView(List<LaneView> items, int userMaxRunning, int userSubmissionsPerMinute) {}

    @Operation(summary = "The lanes: their limits and load",
            description = "Each lane with the models it takes, its maximum depth and wait (0 = no limit), and now: jobs queued "
                    + "(depth), running, the oldest queued job's wait, and whether a new submission would be refused (503 queue_overloaded). "
                    + "Also the per-user caps: jobs running at once and submissions per minute.")
    @GetMapping("/v1/admin/lanes")
    LanesView lanes(Caller caller) {
        requireAdmin(caller);
        Map<String, JobStore.LaneLoad> loads = jobs.laneLoads();
        Map<String, Long> admitted = jobs.laneAdmissions();
        Instant now = clock.instant();
        List<LaneView> items = new ArrayList<>();
        List<String> named = new ArrayList<>();
        for (Lane l : lanes.all()) {
            named.add(l.name());
            items.add(view(l, true, lanes.modelsOf(l), loads.get(l.name()), admitted.getOrDefault(l.name(), 0L), now));
        }
        loads.forEach((name, load) -> {
            if (!named.contains(name)) {
                items.add(view(new Lane(name, List.of(), List.of(), List.of(), 0, Duration.ZERO), false, List.of(), load,
                        admitted.getOrDefault(name, 0L), now));
            }
        });
        return new LanesView(items, lanes.userMaxRunning(), lanes.userSubmissionsPerMinute());
    }

    private static LaneView view(Lane l, boolean configured, List<String> serves, JobStore.LaneLoad load, long admitted, Instant now) {
        JobStore.LaneLoad ld = load == null ? new JobStore.LaneLoad(0, 0, null) : load;
        Duration waited = ld.oldestQueuedAt() == null ? Duration.ZERO : Duration.between(ld.oldestQueuedAt(), now);
        if (waited.isNegative()) waited = Duration.ZERO;
        boolean overloaded = (l.limitsDepth() && ld.queued() + 1 > l.maxDepth())
                || (l.limitsWait() && ld.oldestQueuedAt() != null && waited.compareTo(l.maxWait()) > 0);
        return new LaneView(l.name(), configured, l.kinds(), l.providers(), l.models(), serves, l.maxDepth(), seconds(l.maxWait()),
                ld.queued(), ld.running(), seconds(waited), admitted, overloaded);
    }

    /**
     * One provider account's use.
     *
     * @param errorRate errors / requests, or null before its first request
     */
    record AccountStats(String id, String provider, String label, String state, boolean sandbox, int inFlight, long requests,
                        long errors, Double errorRate, Instant lastUsedAt) {
        static AccountStats of(Account a) {
            return new AccountStats(a.id(), a.provider(), a.label(), a.state().wire(), a.sandbox(), a.inFlight(), a.requests(),
                    a.errors(), a.requests() == 0 ? null : Math.round(1e4 * a.errors() / (double) a.requests()) / 1e4, a.lastUsedAt());
        }
    }

    /**
     * Totals.
     *
     * @param jobs jobs by status, every status listed (those retention removed are not counted)
     * @param accounts each provider account's requests, errors, error rate and last use
     */
    record StatsView(Instant at, long jobsTotal, Map<String, Long> jobs, List<AccountStats> accounts) {}

    @Operation(summary = "Totals: jobs by status, and each provider account's requests, errors, error rate and last use")
    @GetMapping("/v1/admin/stats")
    StatsView stats(Caller caller) {
        requireAdmin(caller);
        Map<String, Long> counts = jobs.countByStatus();
        Map<String, Long> byStatus = new LinkedHashMap<>();
        for (JobStatus s : JobStatus.values()) byStatus.put(s.wire(), counts.getOrDefault(s.wire(), 0L));
        long total = byStatus.values().stream().mapToLong(Long::longValue).sum();
        return new StatsView(clock.instant(), total, byStatus, accounts.list().stream().map(AccountStats::of).toList());
    }

    private static double seconds(Duration d) {
        return d.toMillis() / 1000.0;
    }

    /** The security chain already demands an admin on /v1/admin; this keeps the rule next to the code too. */
    private static void requireAdmin(Caller caller) {
        if (!caller.isAdmin()) throw new KilnException(ErrorCode.FORBIDDEN, "only an admin may see the lanes and stats");
    }
}

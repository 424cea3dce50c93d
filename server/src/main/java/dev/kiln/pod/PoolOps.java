package dev.kiln.pod;

import dev.kiln.account.Account;
import dev.kiln.account.AccountHealth;
import dev.kiln.account.AccountState;
import dev.kiln.account.AccountStore;
import dev.kiln.engine.LostBackends;
import dev.kiln.provider.ProviderException;
import dev.kiln.provider.Providers;
import dev.kiln.provider.runpod.pods.RunPodPods;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * What the pool's tasks share: RunPod, the pods table, the ComfyUI accounts pods become, and the
 * decision log (each decision is also logged and counted in the metrics).
 */
@Component
class PoolOps {
    private static final Logger log = LoggerFactory.getLogger(PoolOps.class);
    static final Duration PRICE_TTL = Duration.ofMinutes(10);
    /** Generous: a pod is ours alone; its ComfyUI's concurrency is what limits it. */
    static final int RATE_PER_MINUTE = 6_000;

    final PodProperties props;
    final RunPodPods runpod;
    final PoolStore store;
    final ComfyLane lane;
    final Clock clock;
    private final AccountStore accounts;
    private final AccountHealth health;
    private final Providers providers;
    private final LostBackends lost;
    private final PoolMetrics metrics;
    private final PodEndpoint endpoint;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private volatile Map<String, Double> prices;
    private volatile Instant pricesAt;

    PoolOps(PodProperties props, RunPodPods runpod, PoolStore store, ComfyLane lane, Clock clock, AccountStore accounts,
            AccountHealth health, Providers providers, LostBackends lost, PoolMetrics metrics, PodEndpoint endpoint) {
        this.props = props;
        this.runpod = runpod;
        this.store = store;
        this.lane = lane;
        this.clock = clock;
        this.accounts = accounts;
        this.health = health;
        this.providers = providers;
        this.lost = lost;
        this.metrics = metrics;
        this.endpoint = endpoint;
    }

    PoolView view() {
        ComfyLane.Queue q = lane.queue(clock.instant());
        List<PoolPod> running = store.active().stream().filter(PoolPod::running).toList();
        return new PoolView(q.jobs(), q.oldestWait(), running.size(), running.stream().mapToDouble(PoolPod::costPerHr).sum());
    }

    /** Records a decision with what the pool saw, logs it and counts it. */
    void decide(String action, String podId, String reason) {
        PoolView v = view();
        store.decide(clock.instant(), action, podId, reason, v);
        metrics.decided(action);
        log.info("pod pool: {}{}: {}", action, podId == null ? "" : " " + podId, reason);
    }

    /** The ComfyUI URL of a pod as RunPod describes it: its public port when mapped, else RunPod's HTTP proxy; null when it has neither yet. */
    String comfyUrl(JsonNode pod) {
        String ip = pod.path("publicIp").asString("");
        JsonNode mapped = pod.path("portMappings").path(Integer.toString(props.comfyPort()));
        if (!ip.isBlank() && mapped.isNumber()) return "http://" + ip + ":" + mapped.asInt();
        if (!"RUNNING".equals(pod.path("desiredStatus").asString())) return null;
        if (!props.ports().contains(props.comfyPort() + "/http")) return null;
        return props.proxyUrl().replace("{id}", pod.path("id").asString()).replace("{port}", Integer.toString(props.comfyPort()));
    }

    /** Whether a ComfyUI answers {@code GET /system_stats} at this URL. */
    boolean answers(String baseUrl) {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl + "/system_stats")).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (java.io.IOException | IllegalArgumentException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Makes (or refreshes) the pod's ComfyUI account and health-checks it; the account when the
     * check passed, else null. Pods of the sandbox's RunPod emulator are sandbox accounts, as the
     * sandbox's own ComfyUI is, so {@code KILN_SANDBOX=on} routes to them too.
     */
    Account becomeAccount(PoolPod p, String baseUrl, String publicIp) {
        Map<String, String> config = new LinkedHashMap<>(providers.settingDefaults(ComfyLane.PROVIDER));
        // Which pod the account is (Vibewave's pod_id/pod_ip of a job and its queue status read these).
        config.put("pod_id", p.id());
        if (publicIp != null && !publicIp.isBlank()) config.put("pod_ip", publicIp);
        Account a = accounts.upsertRuntime(new AccountStore.Definition(ComfyLane.PROVIDER, "pod-" + p.id(), "pod", baseUrl, null, config,
                endpoint.sandbox(), props.podConcurrency(), RATE_PER_MINUTE), clock.instant());
        a = health.check(a);
        return a.state() == AccountState.READY ? a : null;
    }

    Account account(PoolPod p) {
        return p.accountId() == null ? null : accounts.find(p.accountId()).orElse(null);
    }

    /** Takes the pod's account out of routing; jobs on it finish (or are requeued by the caller). */
    void disableAccount(PoolPod p, String why) {
        for (int i = 0; i < 3; i++) {
            Account a = account(p);
            if (a == null || a.state() == AccountState.DISABLED) return;
            if (accounts.transition(a, AccountState.DISABLED, why, clock.instant())) return;
        }
    }

    /** A pod that died: no more work to it, its jobs back to the queue, terminated at RunPod. */
    void replace(PoolPod p, String why) {
        disableAccount(p, why);
        List<String> requeued = p.accountId() == null ? List.of() : lost.requeueJobsOn(p.accountId(), "pod " + p.id() + " died: " + why);
        terminateQuietly(p.id());
        store.halt(p, PoolPod.TERMINATED, 0, clock.instant());
        decide("replace", p.id(), "pod died (" + why + "); terminated it" + (requeued.isEmpty() ? ""
                : "; " + requeued.size() + " job(s) it was running went back to the queue to run on another pod: " + String.join(", ", requeued)));
    }

    /** Terminates the pod at RunPod; false when RunPod could not be told (the caller tries again later). */
    boolean terminateQuietly(String podId) {
        try {
            runpod.terminatePod(podId);
            return true;
        } catch (ProviderException.NotFound | ProviderException.Rejected e) {
            return true; // already gone
        } catch (ProviderException e) {
            log.warn("pod pool: terminating pod {} failed: {}", podId, e.getMessage());
            return false;
        }
    }

    /** The highest secure-cloud price of the configured GPU types (what another pod may cost), or null when RunPod cannot say. */
    Double pricePerPod() {
        Map<String, Double> p = prices;
        if (p == null || pricesAt == null || pricesAt.plus(PRICE_TTL).isBefore(clock.instant())) {
            try {
                p = runpod.securePrices();
                prices = p;
                pricesAt = clock.instant();
            } catch (ProviderException e) {
                log.warn("pod pool: cannot read GPU prices: {}", e.getMessage());
                if (p == null) return null;
            }
        }
        double max = -1;
        for (String g : props.gpuTypes()) {
            Double v = p.get(g);
            if (v != null) max = Math.max(max, v);
        }
        return max < 0 ? null : max;
    }

    static String money(double d) {
        return String.format(Locale.ROOT, "$%.3f", d);
    }

    /** Small sums (a few seconds of a pod): to a hundredth of a cent. */
    static String cents(double d) {
        return String.format(Locale.ROOT, "$%.4f", d);
    }

    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1fs", d.toMillis() / 1000.0);
    }
}

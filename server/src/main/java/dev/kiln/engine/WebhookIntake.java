package dev.kiln.engine;

import dev.kiln.account.Account;
import dev.kiln.account.AccountStore;
import dev.kiln.config.RetentionProperties;
import dev.kiln.job.Job;
import dev.kiln.job.JobStore;
import dev.kiln.provider.Provider;
import dev.kiln.provider.Providers;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.provider.WebhookNotice;
import dev.kiln.provider.WebhookRejected;
import dev.kiln.support.KilnException;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Provider webhooks (hints, never trusted on their own). The URL Kiln gives a provider carries the job's
 * unguessable token; the adapter then verifies the provider's own signature with the account's
 * secret. A verified webhook is only a hint — "look at this job now" — so duplicates and
 * out-of-order deliveries change nothing; polling stays the truth.
 *
 * <p>Hostile deliveries cost little: an unknown provider name is refused before anything is
 * counted or logged (so it cannot mint metric series or log lines); the token is checked before
 * the body is read; a delivery id seen before is a replay and ignored ({@link WebhookReceipts});
 * bursts for one job make one poll ({@link HintCoalescer}); refusals are logged at most once a
 * minute per provider.
 */
@Component
public class WebhookIntake {
    private static final Logger log = LoggerFactory.getLogger(WebhookIntake.class);
    /** Hints for one job closer together than this make one poll. */
    static final Duration COALESCE = Duration.ofSeconds(1);
    private static final long LOG_EVERY_NANOS = Duration.ofMinutes(1).toNanos();

    private final JobStore jobs;
    private final AccountStore accounts;
    private final Providers providers;
    private final WebhookReceipts receipts;
    private final RetentionProperties retention;
    private final MeterRegistry metrics;
    private final Clock clock;
    private final HintCoalescer hints;
    private final Map<String, RefusalLog> refusals = new ConcurrentHashMap<>();

    WebhookIntake(JobStore jobs, AccountStore accounts, Providers providers, Engine engine, WebhookReceipts receipts,
                  RetentionProperties retention, MeterRegistry metrics, Clock clock) {
        this.jobs = jobs;
        this.accounts = accounts;
        this.providers = providers;
        this.receipts = receipts;
        this.retention = retention;
        this.metrics = metrics;
        this.clock = clock;
        this.hints = new HintCoalescer(COALESCE, engine::expedite);
    }

    @PreDestroy
    void stop() {
        hints.close();
    }

    /** What happened to a delivery. */
    public enum Outcome { ACCEPTED, COALESCED, DUPLICATE, IGNORED, REJECTED }

    public record Result(Outcome outcome, String reason) {}

    /** The body of a delivery, read only once the token checked out. */
    @FunctionalInterface
    public interface Body {
        byte[] read() throws IOException;
    }

    /** Whether {@code /webhooks/{provider}} names a provider Kiln has. */
    public boolean knows(String provider) {
        return providers.find(provider).isPresent();
    }

    public List<String> providers() {
        return providers.ids();
    }

    /**
     * Handles a delivery to a known provider ({@link #knows}); an unknown one must have been
     * answered 404 before.
     *
     * @throws IOException if reading the body fails
     */
    public Result receive(String provider, String token, Map<String, List<String>> headers, Body body) throws IOException {
        if (!knows(provider)) throw new IllegalArgumentException("unknown provider");
        String outcome = "rejected";
        try {
            Result r = handle(provider, token, headers, body);
            outcome = r.outcome().name().toLowerCase();
            return r;
        } catch (RuntimeException | IOException e) {
            outcome = e instanceof KilnException ? "too_large" : "unreadable";
            throw e;
        } finally {
            metrics.counter("kiln_webhooks_total", "provider", provider, "outcome", outcome).increment();
        }
    }

    /**
     * Handles a delivery to a URL without a job token, as a provider sends it to an endpoint set
     * up once for all jobs (seed {@code .base}'s {@code /api/webhook/replicate}): the job is the one
     * tracking the remote id the body names ({@code remoteId}, read by the caller), and the
     * provider's signature, checked with that job's account, is the only proof. The caller has
     * read the body, within {@code KILN_WEBHOOK_MAX_BODY}.
     */
    public Result receiveForRemoteJob(String provider, String remoteId, Map<String, List<String>> headers, byte[] body) {
        if (!knows(provider)) throw new IllegalArgumentException("unknown provider");
        String outcome = "rejected";
        try {
            Result r;
            if (remoteId == null || remoteId.isBlank() || remoteId.length() > 256) {
                r = rejected(provider, "the body names no remote job");
            } else {
                Job job = jobs.findByRemoteId(provider, remoteId).orElse(null);
                r = job == null ? rejected(provider, "no job tracks remote job " + remoteId) : verified(provider, job, headers, body);
            }
            outcome = r.outcome().name().toLowerCase();
            return r;
        } finally {
            metrics.counter("kiln_webhooks_total", "provider", provider, "outcome", outcome).increment();
        }
    }

    private Result handle(String provider, String token, Map<String, List<String>> headers, Body body) throws IOException {
        // Everything that needs no body first: a wrong token must not make Kiln read (and hold) a body.
        if (token == null || token.isBlank() || token.length() > 128) return rejected(provider, "missing or malformed token");
        Job job = jobs.findByWebhookToken(token).orElse(null);
        if (job == null || !provider.equals(job.provider())) return rejected(provider, "unknown token");
        if (providers.find(provider).isEmpty() || job.accountId() == null || accounts.find(job.accountId()).isEmpty()) {
            return rejected(provider, "no account to verify with");
        }
        return verified(provider, job, headers, body.read());
    }

    /** Verifies a delivery about {@code job} with its account's secret, then takes it as a hint. */
    private Result verified(String provider, Job job, Map<String, List<String>> headers, byte[] bytes) {
        Provider adapter = providers.find(provider).orElse(null);
        Account account = job.accountId() == null ? null : accounts.find(job.accountId()).orElse(null);
        if (adapter == null || account == null) return rejected(provider, "no account to verify with");
        WebhookDelivery delivery = new WebhookDelivery(headers, bytes, clock.instant());
        WebhookNotice notice;
        try {
            notice = adapter.verifyWebhook(account.toProviderAccount(), delivery);
        } catch (WebhookRejected e) {
            return rejected(provider, e.getMessage());
        } catch (RuntimeException e) {
            return rejected(provider, "unreadable delivery");
        }
        if (job.remoteId() != null && notice.remoteId() != null && !job.remoteId().equals(notice.remoteId())) {
            return rejected(provider, "the delivery is about another remote job");
        }
        // Adapters name the delivery (webhook-id, fal's request id and timestamp, RunPod's job and
        // status); without a name, the same bytes again are the same delivery.
        String deliveryId = notice.deliveryId() != null ? notice.deliveryId() : "body:" + WebhookReceipts.sha256(bytes);
        var now = clock.instant();
        if (!receipts.firstTime(provider, deliveryId, job.id(), now, now.plus(retention.webhookIds()))) {
            return new Result(Outcome.DUPLICATE, "this delivery was received before");
        }
        if (job.status().terminal()) return new Result(Outcome.IGNORED, "the job is already " + job.status().wire());
        return switch (hints.offer(job.id())) {
            case NOW -> new Result(Outcome.ACCEPTED, null);
            case LATER, DROPPED -> new Result(Outcome.COALESCED, null);
        };
    }

    private Result rejected(String provider, String reason) {
        refusals.computeIfAbsent(provider, p -> new RefusalLog()).note(provider, reason);
        return new Result(Outcome.REJECTED, reason);
    }

    /** One log line per provider per minute, however many deliveries are refused. */
    private static final class RefusalLog {
        private final AtomicLong lastLogged = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);
        private final AtomicLong suppressed = new AtomicLong();

        void note(String provider, String reason) {
            long now = System.nanoTime();
            long last = lastLogged.get();
            if (now - last >= LOG_EVERY_NANOS && lastLogged.compareAndSet(last, now)) {
                long more = suppressed.getAndSet(0);
                log.info("refused a {} webhook: {}{}", provider, printable(reason),
                        more == 0 ? "" : " (and " + more + " more in the minute before)");
            } else {
                suppressed.incrementAndGet();
            }
        }
    }

    /** Text from a delivery, fit for one log line: no control characters, at most 200 characters. */
    static String printable(String s) {
        if (s == null) return "";
        String t = s.codePoints().map(c -> Character.isISOControl(c) || Character.getType(c) == Character.FORMAT ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return t.length() > 200 ? t.substring(0, 200) + "…" : t;
    }
}

package dev.kiln.engine;

import dev.kiln.account.Account;
import dev.kiln.account.AccountStore;
import dev.kiln.job.Job;
import dev.kiln.job.JobStore;
import dev.kiln.provider.Provider;
import dev.kiln.provider.Providers;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.provider.WebhookNotice;
import dev.kiln.provider.WebhookRejected;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Provider webhooks (DESIGN-NOTES §5). The URL Kiln gives a provider carries the job's
 * unguessable token; the adapter then verifies the provider's own signature with the account's
 * secret. A verified webhook is only a hint — "look at this job now" — so duplicates and
 * out-of-order deliveries change nothing; polling stays the truth.
 */
@Component
public class WebhookIntake {
    private static final Logger log = LoggerFactory.getLogger(WebhookIntake.class);
    private final JobStore jobs;
    private final AccountStore accounts;
    private final Providers providers;
    private final Engine engine;
    private final io.micrometer.core.instrument.MeterRegistry metrics;

    WebhookIntake(JobStore jobs, AccountStore accounts, Providers providers, Engine engine,
                  io.micrometer.core.instrument.MeterRegistry metrics) {
        this.jobs = jobs;
        this.accounts = accounts;
        this.providers = providers;
        this.engine = engine;
        this.metrics = metrics;
    }

    /** What happened to a delivery. */
    public enum Outcome { ACCEPTED, IGNORED, REJECTED }

    public record Result(Outcome outcome, String reason) {}

    public Result receive(String provider, String token, WebhookDelivery delivery) {
        Result r = handle(provider, token, delivery);
        metrics.counter("kiln_webhooks_total", "provider", provider.length() > 20 ? "other" : provider,
                "outcome", r.outcome().name().toLowerCase()).increment();
        return r;
    }

    private Result handle(String provider, String token, WebhookDelivery delivery) {
        if (token == null || token.isBlank()) return rejected(provider, "missing token");
        Job job = jobs.findByWebhookToken(token).orElse(null);
        if (job == null || !provider.equals(job.provider())) return rejected(provider, "unknown token");
        Provider adapter = providers.find(provider).orElse(null);
        Account account = job.accountId() == null ? null : accounts.find(job.accountId()).orElse(null);
        if (adapter == null || account == null) return rejected(provider, "no account to verify with");
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
        if (job.status().terminal()) return new Result(Outcome.IGNORED, "the job is already " + job.status().wire());
        engine.expedite(job.id());
        return new Result(Outcome.ACCEPTED, null);
    }

    private static Result rejected(String provider, String reason) {
        log.info("refused a {} webhook: {}", provider, reason);
        return new Result(Outcome.REJECTED, reason);
    }
}

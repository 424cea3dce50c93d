package dev.kiln.provider;

import java.time.Instant;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * A generation backend protocol (WaveSpeed, Replicate, fal, RunPod, ComfyUI), spoken over real
 * HTTP. One adapter instance serves every account of its provider: the account is passed to each
 * call, so a key pool needs no extra instances.
 *
 * <p>Adapters are stateless between calls and safe to call from many virtual threads at once.
 * They never touch Kiln's database; what they need to remember about a remote job they return as
 * {@link Submitted#remote()} and get back in {@link RemoteRef#remote()}. Every failure is a
 * {@link ProviderException}, sorted by what the caller does next.
 */
public interface Provider {

    /** The protocol id used in catalogue bindings and account rows, e.g. {@code "wavespeed"}. */
    String id();

    /**
     * Sends one generation. Called once per attempt, after Kiln recorded its intent to submit.
     *
     * @throws ProviderException.Ambiguous when the request may have reached the provider but no
     *     answer came back; Kiln then calls {@link #reconcile} and never blindly resubmits
     */
    Submitted submit(ProviderAccount account, SubmitRequest request);

    /** The current state of a remote job. Must be idempotent and cheap. */
    RemoteStatus poll(ProviderAccount account, RemoteRef ref);

    /** Asks the provider to stop a remote job. Cancelling a finished job is not an error. */
    void cancel(ProviderAccount account, RemoteRef ref);

    /**
     * After an ambiguous submit: finds the remote job the provider created for this request, if
     * any. {@link Reconciliation.NotFound} must only be answered when the provider's own records
     * prove it never received the request; otherwise answer {@link Reconciliation.Unknown}.
     */
    default Reconciliation reconcile(ProviderAccount account, SubmitRequest request, Instant intentAt) {
        return new Reconciliation.Unknown(id() + " offers no way to look up a submission");
    }

    /**
     * Verifies a webhook delivery (signature over the raw body, timestamp window) with the
     * account's secret and returns the remote job it is about. Kiln treats every verified webhook
     * as "poll this job now", so adapters need not trust the body's state.
     *
     * @throws WebhookRejected when the delivery cannot be verified
     */
    WebhookNotice verifyWebhook(ProviderAccount account, WebhookDelivery delivery);

    /** Opens one output for download (an HTTP URL, or inline data the provider returned). */
    default Download open(ProviderAccount account, OutputRef ref) {
        throw new ProviderException.Rejected(id(), "output of an unsupported kind", null, 0);
    }

    /**
     * A cheap check that the account works (credentials valid, endpoint reachable), and, where the
     * provider can say, what it can run ({@link Health#capabilities()}), refreshed on every check.
     */
    Health health(ProviderAccount account);

    /**
     * What this account lacks to run this work, judged from its settings and the capabilities its
     * last health check found ({@code capabilities}, null when none were ever found). Kiln sends a
     * job only to an account with no shortfall, and refuses at submission a job no account can
     * run. Empty when the account can run it, and when it cannot tell: an unknown account is
     * tried, and the provider's own refusal fails the job.
     */
    default List<Shortfall> shortfalls(ProviderAccount account, JsonNode capabilities, Work work) {
        return List.of();
    }

    /** How often this provider may be polled. */
    default PollPolicy pollPolicy(ProviderAccount account, String kind) {
        return PollPolicy.DEFAULT;
    }
}

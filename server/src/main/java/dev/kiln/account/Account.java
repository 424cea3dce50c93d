package dev.kiln.account;

import dev.kiln.provider.ProviderAccount;
import java.time.Instant;
import java.util.Map;

/**
 * One row of the {@code accounts} table. {@code secret} is the decrypted credential (for
 * environment accounts it is read from the environment and never stored).
 *
 * @param source {@code env}, {@code sandbox} or {@code admin}
 * @param capabilitiesAt when a health check last stored what the account can run (see
 *     {@link AccountCapabilities}), or null when none ever did
 */
public record Account(
        String id, String provider, String label, String source, String baseUrl, String secret,
        Map<String, String> config, boolean sandbox, AccountState state, int maxConcurrency, int ratePerMinute,
        int inFlight, long requests, long errors, int recentFailures, Instant failureWindowStart,
        Instant cooldownUntil, Instant lastUsedAt, Instant lastCheckAt, String lastError, int version, Instant createdAt,
        Instant capabilitiesAt) {

    public ProviderAccount toProviderAccount() {
        return new ProviderAccount(id, provider, label, baseUrl, secret, config, sandbox);
    }

    public boolean coolingDown(Instant now) {
        return cooldownUntil != null && cooldownUntil.isAfter(now);
    }

    @Override
    public String toString() {
        return "Account[" + id + ", " + provider + ", " + label + ", " + state.wire() + "]";
    }
}

package dev.kiln.account;

import dev.kiln.provider.Provider;
import dev.kiln.provider.Providers;
import dev.kiln.provider.Shortfall;
import dev.kiln.provider.Work;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * What each account can run, as its health checks found it ({@code account_capabilities}), and
 * what an account lacks for a piece of work. The capabilities are read from the database only when
 * the account row says they changed ({@code capabilities_at}), so the dispatcher can ask for every
 * job without a query.
 */
@Component
public class AccountCapabilities {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AccountCapabilities.class);
    private final AccountStore store;
    private final Providers providers;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(Instant at, JsonNode body) {}

    AccountCapabilities(AccountStore store, Providers providers) {
        this.store = store;
        this.providers = providers;
    }

    /** What the account's last health check found it can run; null when none ever found anything. */
    public JsonNode of(Account a) {
        if (a.capabilitiesAt() == null) return null;
        Cached c = cache.get(a.id());
        if (c != null && Objects.equals(c.at(), a.capabilitiesAt())) return c.body();
        JsonNode body = store.capabilities(a.id());
        cache.put(a.id(), new Cached(a.capabilitiesAt(), body));
        return body;
    }

    /** What the account lacks to run this work (its provider judges); empty when it can, or cannot tell. */
    public List<Shortfall> shortfalls(Account a, Work work) {
        Provider p = providers.find(a.provider()).orElse(null);
        if (p == null) return List.of();
        try {
            return p.shortfalls(a.toProviderAccount(), of(a), work);
        } catch (RuntimeException e) {
            // Judging is an optimisation over the provider's own refusal: a fault in it must not stop dispatching.
            log.warn("could not judge whether account {} ({}) can run {}: {}", a.label(), a.provider(), work.model(), e.toString());
            return List.of();
        }
    }

    void save(Account a, JsonNode capabilities, Instant at) {
        store.saveCapabilities(a.id(), capabilities, at);
        cache.put(a.id(), new Cached(at, capabilities));
    }
}

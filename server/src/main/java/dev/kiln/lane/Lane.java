package dev.kiln.lane;

import java.time.Duration;
import java.util.List;

/**
 * A bounded queue jobs wait in: which models it takes (by id, by the provider of their first
 * binding, by kind) and its limits. A submission that would pass either limit is refused with 503
 * {@code queue_overloaded} and creates nothing.
 *
 * @param maxDepth most jobs queued at once (0 = no limit)
 * @param maxWait longest its oldest queued job may have waited for new work to be accepted (zero = no limit)
 */
public record Lane(String name, List<String> kinds, List<String> providers, List<String> models, int maxDepth, Duration maxWait) {
    public Lane {
        kinds = List.copyOf(kinds);
        providers = List.copyOf(providers);
        models = List.copyOf(models);
    }

    public boolean limitsDepth() {
        return maxDepth > 0;
    }

    public boolean limitsWait() {
        return maxWait.isPositive();
    }
}

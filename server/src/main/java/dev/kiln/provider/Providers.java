package dev.kiln.provider;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** The provider adapters Kiln has, by protocol id. */
@Component
public class Providers {
    private final Map<String, Provider> byId = new LinkedHashMap<>();

    public Providers(List<Provider> providers) {
        for (Provider p : providers) {
            if (byId.put(p.id(), p) != null) throw new IllegalStateException("two adapters for provider " + p.id());
        }
    }

    public Optional<Provider> find(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    public Provider get(String id) {
        Provider p = byId.get(id);
        if (p == null) throw new IllegalStateException("no adapter for provider '" + id + "'");
        return p;
    }

    public List<String> ids() {
        return List.copyOf(byId.keySet());
    }
}

package dev.kiln.provider;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The provider adapters Kiln has, by protocol id. */
public class Providers implements AutoCloseable {
    private final Map<String, Provider> byId = new LinkedHashMap<>();

    public Providers(List<Provider> providers) {
        for (Provider p : providers) {
            if (byId.put(p.id(), p) != null) throw new IllegalStateException("two adapters for provider " + p.id());
        }
    }

    /** The adapters every descriptor brings, on one transport. */
    public static Providers of(List<ProviderDescriptor> descriptors, ProviderHttp http) {
        List<Provider> all = new ArrayList<>();
        for (ProviderDescriptor d : descriptors) all.addAll(d.adapters(http));
        return new Providers(all);
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

    /** Closes the adapters that hold resources. */
    @Override
    public void close() throws Exception {
        Exception first = null;
        for (Provider p : byId.values()) {
            if (p instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    if (first == null) first = e;
                    else first.addSuppressed(e);
                }
            }
        }
        if (first != null) throw first;
    }
}

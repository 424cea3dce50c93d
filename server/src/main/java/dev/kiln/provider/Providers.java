package dev.kiln.provider;

import dev.kiln.catalog.BindingTargets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The provider adapters Kiln has, by protocol id; also what the catalogue checks its bindings
 * against (which ids exist, which need a remote model).
 */
public class Providers implements BindingTargets, AutoCloseable {
    private final Map<String, Provider> byId = new LinkedHashMap<>();
    private final Map<String, Boolean> needsRemote = new HashMap<>();
    private final Map<String, Map<String, String>> settingDefaults = new HashMap<>();

    /** Adapters whose bindings all name a remote model. */
    public Providers(List<Provider> providers) {
        for (Provider p : providers) add(p, true);
    }

    private Providers() {}

    /** The adapters every descriptor brings, on one transport. */
    public static Providers of(List<ProviderDescriptor> descriptors, ProviderHttp http) {
        Providers out = new Providers();
        for (ProviderDescriptor d : descriptors) {
            Map<String, String> defaults = new LinkedHashMap<>();
            for (ProviderDescriptor.Setting s : d.settings()) if (s.defaultValue() != null) defaults.put(s.key(), s.defaultValue());
            for (Provider p : d.adapters(http)) {
                out.add(p, d.bindingsNeedRemote());
                out.settingDefaults.put(p.id(), Map.copyOf(defaults));
            }
        }
        return out;
    }

    private void add(Provider p, boolean remote) {
        if (byId.put(p.id(), p) != null) throw new IllegalStateException("two adapters for provider " + p.id());
        needsRemote.put(p.id(), remote);
    }

    @Override
    public Set<String> providerIds() {
        return java.util.Collections.unmodifiableSet(byId.keySet());
    }

    @Override
    public boolean needsRemote(String provider) {
        return needsRemote.getOrDefault(provider, true);
    }

    public Optional<Provider> find(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    public Provider get(String id) {
        Provider p = byId.get(id);
        if (p == null) throw new IllegalStateException("no adapter for provider '" + id + "'");
        return p;
    }

    /** The settings a provider's accounts get when they do not set them (its descriptor's defaults, e.g. fal's JWKS URL). */
    public Map<String, String> settingDefaults(String provider) {
        return settingDefaults.getOrDefault(provider, Map.of());
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

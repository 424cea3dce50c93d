package dev.kiln.catalog;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The loaded model catalogue, in file order. Immutable. */
public final class Catalog {
    private final Map<String, Model> models = new LinkedHashMap<>();

    public Catalog(List<Model> models) {
        models.forEach(m -> this.models.put(m.id(), m));
    }

    public Optional<Model> find(String id) {
        return Optional.ofNullable(id == null ? null : models.get(id));
    }

    public List<Model> all() {
        return List.copyOf(models.values());
    }

    public List<Model> filter(String kind, String action) {
        return models.values().stream()
                .filter(m -> kind == null || m.kind().equals(kind))
                .filter(m -> action == null || m.actions().contains(action))
                .toList();
    }
}

package dev.kiln.lane;

import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.user.Identity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.stereotype.Component;

/**
 * The configured lanes and which one each model's jobs wait in (fixed on the job at submission),
 * and the per-user caps. Configuration only: the queue itself is the {@code jobs} table
 * ({@code job.JobStore}), admission is {@code job.JobService}'s, fair order the dispatcher's.
 *
 * <p>In local mode ({@code KILN_AUTH=local}) there is one user, so the per-user caps are off: they
 * share a lane between users and there is nobody to share it with.
 */
@Component
@EnableConfigurationProperties(LaneProperties.class)
public class Lanes {
    /** The lane of every model no other lane takes; always present. */
    public static final String DEFAULT = "default";
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,31}");
    /** Depth of the default lane when the configuration does not name one. */
    static final int DEFAULT_DEPTH = 10_000;

    private final Map<String, Lane> lanes;
    private final Catalog catalog;
    private final int userMaxRunning;
    private final int userSubmissionsPerMinute;

    @org.springframework.beans.factory.annotation.Autowired
    Lanes(LaneProperties props, Catalog catalog, Identity identity) {
        this(props, catalog, identity.local());
    }

    Lanes(LaneProperties props, Catalog catalog, boolean local) {
        this.catalog = catalog;
        this.lanes = build(props);
        this.userMaxRunning = local ? 0 : props.userMaxRunning();
        this.userSubmissionsPerMinute = local ? 0 : props.userSubmissionsPerMinute();
        for (Model m : catalog.all()) of(m); // fail at start-up, not at the first submission, when two lanes claim a model
    }

    private static Map<String, Lane> build(LaneProperties props) {
        Map<String, Lane> out = new LinkedHashMap<>();
        props.lanes().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            String name = e.getKey().trim().toLowerCase(java.util.Locale.ROOT);
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("lane name '" + e.getKey() + "' (kiln.lanes.<name>) must be 1 to 32 of a-z, 0-9, '-', '_'");
            }
            LaneProperties.Spec s = e.getValue();
            if (s.maxDepth() < 0) throw new IllegalArgumentException("lane " + name + ": max-depth must be 0 (no limit) or more, got " + s.maxDepth());
            if (s.maxWait().isNegative()) throw new IllegalArgumentException("lane " + name + ": max-wait must not be negative");
            out.put(name, new Lane(name, s.kinds(), s.providers(), s.models(), s.maxDepth(), s.maxWait()));
        });
        out.putIfAbsent(DEFAULT, new Lane(DEFAULT, List.of(), List.of(), List.of(), DEFAULT_DEPTH, Duration.ZERO));
        return java.util.Collections.unmodifiableMap(out);
    }

    /** Every lane, by name. */
    public List<Lane> all() {
        return List.copyOf(lanes.values());
    }

    public Optional<Lane> named(String name) {
        return Optional.ofNullable(lanes.get(name));
    }

    /**
     * The lane a model's jobs wait in: the one naming the model, else the one holding the provider
     * of its first binding, else the one holding its kind, else {@value #DEFAULT}.
     *
     * @throws IllegalStateException when two lanes claim the model at the same level (a configuration error)
     */
    public Lane of(Model m) {
        String provider = m.bindings().isEmpty() ? null : m.bindings().getFirst().provider();
        Lane hit = claim(m, "model", m.id(), Lane::models);
        if (hit == null) hit = claim(m, "provider", provider, Lane::providers);
        if (hit == null) hit = claim(m, "kind", m.kind(), Lane::kinds);
        return hit != null ? hit : lanes.get(DEFAULT);
    }

    private Lane claim(Model m, String what, String key, Function<Lane, List<String>> list) {
        if (key == null) return null;
        List<Lane> hits = new ArrayList<>();
        for (Lane l : lanes.values()) if (list.apply(l).contains(key)) hits.add(l);
        if (hits.size() > 1) {
            throw new IllegalStateException("model " + m.id() + " is claimed by lanes " + hits.stream().map(Lane::name).toList()
                    + " alike (by its " + what + " '" + key + "', kiln.lanes.*); name it in only one");
        }
        return hits.isEmpty() ? null : hits.getFirst();
    }

    /** The lane name of a model id (the default lane for a model no longer in the catalogue). */
    public String nameOf(String modelId) {
        return catalog.find(modelId).map(m -> of(m).name()).orElse(DEFAULT);
    }

    /** The catalogue models whose jobs wait in this lane. */
    public List<String> modelsOf(Lane lane) {
        return catalog.all().stream().filter(m -> of(m).name().equals(lane.name())).map(Model::id).toList();
    }

    /** Most jobs one user has running at once (0 = no cap; always 0 in local mode). */
    public int userMaxRunning() {
        return userMaxRunning;
    }

    /** Most submissions one user makes a minute (0 = no limit; always 0 in local mode). */
    public int userSubmissionsPerMinute() {
        return userSubmissionsPerMinute;
    }
}

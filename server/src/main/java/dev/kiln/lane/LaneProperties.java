package dev.kiln.lane;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Lanes and per-user limits, bound from the environment (application.yml, README "Configuration").
 *
 * @param lanes each lane by name ({@code kiln.lanes.<name>.*}; more lanes from the environment as
 *     {@code KILN_LANES_<NAME>_KINDS|PROVIDERS|MODELS|MAXDEPTH|MAXWAIT})
 * @param userMaxRunning most jobs one user has running at once; the rest wait in the queue
 *     ({@code KILN_USER_MAX_RUNNING}, 0 = no cap)
 * @param userSubmissionsPerMinute most submissions (a job or a run each) one user makes a minute,
 *     then 429 ({@code KILN_USER_SUBMISSIONS_PER_MINUTE}, 0 = no limit)
 */
@ConfigurationProperties("kiln")
public record LaneProperties(Map<String, Spec> lanes, int userMaxRunning, int userSubmissionsPerMinute) {

    /**
     * One lane as configured. A model goes to the lane that names it in {@code models}, else to the
     * one whose {@code providers} hold the provider of its first binding, else to the one whose
     * {@code kinds} hold its kind, else to {@value Lanes#DEFAULT}.
     *
     * @param maxDepth most jobs queued in the lane (0 = no limit)
     * @param maxWait longest the lane's oldest queued job may have waited (zero or absent = no limit)
     */
    public record Spec(List<String> kinds, List<String> providers, List<String> models, int maxDepth, Duration maxWait) {
        public Spec {
            kinds = clean(kinds);
            providers = clean(providers);
            models = clean(models);
            if (maxWait == null) maxWait = Duration.ZERO;
        }

        private static List<String> clean(List<String> in) {
            return in == null ? List.of() : in.stream().map(String::trim).filter(s -> !s.isEmpty()).distinct().toList();
        }
    }

    public LaneProperties {
        lanes = lanes == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(lanes));
        if (userMaxRunning < 0) throw new IllegalArgumentException("KILN_USER_MAX_RUNNING must be 0 (no cap) or more, got " + userMaxRunning);
        if (userSubmissionsPerMinute < 0) {
            throw new IllegalArgumentException("KILN_USER_SUBMISSIONS_PER_MINUTE must be 0 (no limit) or more, got " + userSubmissionsPerMinute);
        }
    }
}

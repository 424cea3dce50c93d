package dev.kiln.pod;

import static dev.kiln.db.Db.instant;

import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import java.time.Duration;
import java.time.Instant;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The ComfyUI lane's queue: jobs waiting whose current binding runs on ComfyUI, how many and how
 * long the oldest has waited (since it was submitted: a job sent back by a lost pod has waited all along).
 */
@Component
class ComfyLane {
    static final String PROVIDER = "comfyui";
    private final JdbcClient jdbc;
    private final Catalog catalog;

    ComfyLane(JdbcClient jdbc, Catalog catalog) {
        this.jdbc = jdbc;
        this.catalog = catalog;
    }

    record Queue(int jobs, Duration oldestWait) {}

    Queue queue(Instant now) {
        int[] jobs = {0};
        Instant[] oldest = {null};
        jdbc.sql("SELECT model, binding_index, COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs WHERE status = 'queued' GROUP BY model, binding_index")
                .query(rs -> {
                    Model m = catalog.find(rs.getString("model")).orElse(null);
                    int b = rs.getInt("binding_index");
                    if (m == null || b >= m.bindings().size() || !PROVIDER.equals(m.bindings().get(b).provider())) return;
                    jobs[0] += rs.getInt("n");
                    Instant o = instant(rs, "oldest");
                    if (o != null && (oldest[0] == null || o.isBefore(oldest[0]))) oldest[0] = o;
                });
        Duration wait = oldest[0] == null ? Duration.ZERO : Duration.between(oldest[0], now);
        return new Queue(jobs[0], wait.isNegative() ? Duration.ZERO : wait);
    }
}

package dev.kiln.housekeeping;

import dev.kiln.config.RetentionProperties;
import dev.kiln.job.Outbox;
import java.time.Instant;
import org.springframework.stereotype.Component;

/** Client-webhook deliveries that are done (delivered or given up) and older than {@code KILN_RETAIN_DELIVERIES}. */
@Component
class DeliveriesTask extends HousekeepingTask {
    private final Outbox outbox;
    private final RetentionProperties retention;

    DeliveriesTask(Outbox outbox, RetentionProperties retention) {
        this.outbox = outbox;
        this.retention = retention;
    }

    @Override
    String removes() {
        return "finished client-webhook deliveries";
    }

    @Override
    int runTask(Instant now) {
        return RetentionProperties.limit(retention.deliveries())
                .map(keep -> inBatches(() -> outbox.purgeDone(now.minus(keep), BATCH))).orElse(0);
    }
}

package dev.kiln.housekeeping;

import dev.kiln.engine.WebhookReceipts;
import java.time.Instant;
import org.springframework.stereotype.Component;

/** Provider webhook ids past their replay window ({@code KILN_RETAIN_WEBHOOK_IDS}, set on each when it arrived). */
@Component
class WebhookReceiptsTask extends HousekeepingTask {
    private final WebhookReceipts receipts;

    WebhookReceiptsTask(WebhookReceipts receipts) {
        this.receipts = receipts;
    }

    @Override
    String removes() {
        return "remembered webhook ids";
    }

    @Override
    int runTask(Instant now) {
        return receipts.expire(now);
    }
}

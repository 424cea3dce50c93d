package dev.kiln.engine;

import dev.kiln.asset.AssetService;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/** Housekeeping: files that no asset row uses (left by refused requests or crashes) are removed after a day. */
@Component
class Janitor {
    private static final Logger log = LoggerFactory.getLogger(Janitor.class);
    private final AssetService assets;

    Janitor(AssetService assets) {
        this.assets = assets;
    }

    @Scheduled(initialDelay = 600_000, fixedDelay = 6 * 3_600_000)
    void sweep() {
        int n = assets.sweepOrphans(Duration.ofDays(1));
        if (n > 0) log.info("removed {} stored file(s) that no asset uses", n);
    }
}

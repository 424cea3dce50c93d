package dev.kiln.engine;

import dev.kiln.asset.AssetService;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Housekeeping: stored blobs that no asset row uses (a crash between upload and commit, a removal
 * that failed while the store was down, a refused request) are removed once their hold has expired,
 * stray files a day old too (see {@link AssetService#sweepOrphans}).
 */
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

package dev.kiln.asset;

import dev.kiln.asset.storage.BlobStore;
import dev.kiln.asset.storage.StorageProperties;
import dev.kiln.asset.storage.local.LocalBlobStore;
import dev.kiln.config.KilnProperties;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** An {@link AssetService} as Kiln builds it, on a given database and store, with a clock tests can move. */
final class TestAssets {
    private TestAssets() {}

    static AssetService local(KilnProperties props, DataSource ds) {
        return service(props, StorageProperties.local(), new LocalBlobStore(props.dataDir()), ds, Clock.systemUTC());
    }

    static AssetService service(KilnProperties props, StorageProperties storage, BlobStore store, DataSource ds, Clock clock) {
        return new AssetService(props, storage, store, JdbcClient.create(ds), new TransactionTemplate(new DataSourceTransactionManager(ds)), clock);
    }

    static byte[] bytes(AssetService service, String sha) {
        try (InputStream in = service.open(sha, 0, -1)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A clock that stands still until moved. */
    static final class MovableClock extends Clock {
        private Instant now = Instant.now();

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}

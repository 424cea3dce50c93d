package dev.kiln.asset;

import dev.kiln.testing.TestDatabases;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.asset.storage.BlobStore;
import dev.kiln.asset.storage.StorageProperties;
import dev.kiln.asset.storage.local.LocalBlobStore;
import dev.kiln.asset.storage.s3.S3BlobStore;
import dev.kiln.support.ErrorCode;
import dev.kiln.testing.S3Server;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

/**
 * The storage quota (KILN_STORAGE_QUOTA) on both backends, and what every instance must share:
 * the bytes (a bucket) and the key signing asset URLs (the database).
 */
class StorageQuotaTest {
    static final String BUCKET = "kiln-quota";
    @TempDir static Path serverDir;
    static S3Server server;
    @TempDir Path dataDir;
    private HikariDataSource ds;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeAll
    static void startS3() {
        server = S3Server.start(serverDir, BUCKET);
    }

    @AfterAll
    static void stopS3() {
        server.close();
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) c.close();
        if (ds != null) ds.close();
    }

    private BlobStore store(String backend, String prefix) {
        if (backend.equals("local")) return new LocalBlobStore(dataDir);
        S3BlobStore s3 = new S3BlobStore(server.config(BUCKET, prefix, false));
        closing.add(s3);
        return s3;
    }

    private AssetService service(String backend, long quota, String prefix) {
        if (ds == null) ds = TestDatabases.h2();
        var storage = new StorageProperties(backend.equals("s3") ? StorageProperties.Type.S3 : StorageProperties.Type.LOCAL,
                quota < 0 ? null : DataSize.ofBytes(quota), null, null, backend.equals("s3") ? server.config(BUCKET, prefix, false) : null);
        return TestAssets.service(AssetServiceTest.props(dataDir, null, false), storage, store(backend, prefix), ds, Clock.systemUTC());
    }

    private static ByteArrayInputStream png(int w) {
        return new ByteArrayInputStream(TestImages.png(w, 100));
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "s3"})
    void pastTheQuotaNothingIsWrittenAnd507IsAnswered(String backend) throws Exception {
        String prefix = "q-" + System.nanoTime() + "/";
        // Sized after the first output: it fits, a second (different) one does not.
        // (Both are small enough to be their own thumbnails: one blob each.)
        long first = TestImages.png(100, 100).length;

        AssetService svc = service(backend, first + first / 2, prefix);
        long before = svc.usage()[0];
        StoredMedia a = svc.storeOutput(png(100), "image/png", 1_000_000);
        svc.insertOutput("job_1", 0, "usr_alice", a, false, null);
        assertThat(svc.usage()[0] - before).isEqualTo(first);
        svc.insertOutput("job_2", 0, "usr_alice", svc.storeOutput(png(100), "image/png", 1_000_000), false, null);
        assertThat(svc.usage()[0] - before).as("the same bytes again cost nothing").isEqualTo(first);

        BlobStore store = svc.store();
        StoredMedia[] b = {null};
        assertThatThrownBy(() -> b[0] = svc.storeOutput(png(101), "image/png", 1_000_000))
                .isInstanceOf(StorageFullException.class)
                .satisfies(e -> assertThat(((StorageFullException) e).code()).isEqualTo(ErrorCode.STORAGE_FULL))
                .hasMessageContaining("the storage quota of");
        assertThat(ErrorCode.STORAGE_FULL.status()).isEqualTo(507);
        assertThat(svc.usage()[0]).as("nothing reserved").isEqualTo(before + first);
        List<String> stored = new ArrayList<>();
        store.forEach(x -> stored.add(x.sha256()));
        assertThat(stored).as("nothing half written").doesNotContain(TestAssetsSha.of(TestImages.png(101, 100)));
        svc.checkRoom(); // some room is left, only not enough for that file
        AssetService exactlyFull = service(backend, svc.usage()[0], prefix);
        assertThatThrownBy(exactlyFull::checkRoom).isInstanceOf(StorageFullException.class);

        // Room comes back when assets go.
        svc.deleteForJob("job_1");
        assertThat(svc.usage()[0] - before).as("still used by job_2").isEqualTo(first);
        svc.deleteForJob("job_2");
        assertThat(svc.usage()[0]).isEqualTo(before);
        svc.checkRoom();
        StoredMedia c = svc.storeOutput(png(101), "image/png", 1_000_000);
        assertThat(store.stat(c.sha256())).isPresent();
    }

    @Test
    void aLinkSignedByOneInstanceIsValidOnAnother(@TempDir Path otherDir) {
        ds = TestDatabases.h2();
        AssetService a = TestAssets.local(AssetServiceTest.props(dataDir, "https://kiln.example.com", false), ds);
        AssetService b = TestAssets.local(AssetServiceTest.props(otherDir, "https://kiln.example.com", false), ds);
        long exp = java.time.Instant.now().plusSeconds(60).getEpochSecond();
        assertThat(b.verifySignature("ast_1", exp, a.sign("ast_1", exp))).isTrue();
    }

    /** The hash of some bytes. */
    static final class TestAssetsSha {
        static String of(byte[] b) {
            try {
                return StagingTest.sha256(b);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}

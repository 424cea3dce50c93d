package dev.kiln.asset.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.asset.storage.BlobStore;
import dev.kiln.asset.storage.StorageProperties;
import dev.kiln.asset.storage.StorageUnavailableException;
import dev.kiln.testing.S3Server;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The S3 adapter against a real S3-compatible server (S3Proxy, see {@link S3Server}). */
class S3BlobStoreTest {
    static final String BUCKET = "kiln-blobs";
    @TempDir static Path serverDir;
    @TempDir Path dir;
    static S3Server server;
    static S3BlobStore store;

    @BeforeAll
    static void start() {
        server = S3Server.start(serverDir, BUCKET);
        StorageProperties.S3 cfg = server.config(BUCKET, "kiln/", false);
        store = new S3BlobStore(new StorageProperties.S3(cfg.endpoint(), cfg.bucket(), cfg.region(), cfg.accessKeyId(),
                cfg.secretAccessKey(), cfg.prefix(), true, Duration.ofMinutes(1), org.springframework.util.unit.DataSize.ofMegabytes(5)));
    }

    @AfterAll
    static void stop() {
        store.close();
        server.close();
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private Path write(byte[] bytes) throws Exception {
        return Files.write(Files.createTempFile(dir, "blob", ".bin"), bytes);
    }

    @Test
    void storesReadsRangesListsAndDeletesUnderTheHashWithThePrefix() throws Exception {
        byte[] bytes = "0123456789abcdef".getBytes();
        String sha = sha256(bytes);
        store.put(sha, write(bytes), bytes.length);
        store.put(sha, write(bytes), bytes.length); // again: harmless

        assertThat(store.stat(sha)).hasValueSatisfying(b -> assertThat(b.size()).isEqualTo(16));
        try (InputStream in = store.open(sha, 0, -1)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        try (InputStream in = store.open(sha, 10, 3)) {
            assertThat(in.readAllBytes()).isEqualTo("abc".getBytes());
        }
        try (var c = server.client()) {
            var head = c.headObject(b -> b.bucket(BUCKET).key("kiln/assets/" + sha.substring(0, 2) + "/" + sha));
            assertThat(head.metadata()).containsEntry("sha256", sha);
        }
        List<String> listed = new ArrayList<>();
        store.forEach(b -> listed.add(b.sha256()));
        assertThat(listed).contains(sha);

        store.delete(sha);
        assertThat(store.stat(sha)).isEmpty();
        assertThatThrownBy(() -> store.open(sha, 0, -1)).isInstanceOf(BlobStore.BlobMissingException.class);
        store.delete(sha); // already gone: fine
    }

    @Test
    void largeFilesGoUpInPartsAndComeBackWhole() throws Exception {
        byte[] bytes = new byte[12 * 1024 * 1024 + 12345];
        new Random(7).nextBytes(bytes);
        String sha = sha256(bytes);
        store.put(sha, write(bytes), bytes.length);
        try (InputStream in = store.open(sha, 0, -1)) {
            assertThat(sha256(in.readAllBytes())).isEqualTo(sha);
        }
        try (InputStream in = store.open(sha, 6 * 1024 * 1024 - 2, 4)) {
            assertThat(in.readAllBytes()).isEqualTo(java.util.Arrays.copyOfRange(bytes, 6 * 1024 * 1024 - 2, 6 * 1024 * 1024 + 2));
        }
        // Reading a little of a large object and closing does not fetch the rest.
        try (InputStream in = store.open(sha, 0, -1)) {
            assertThat(in.readNBytes(10)).isEqualTo(java.util.Arrays.copyOf(bytes, 10));
        }
    }

    @Test
    void theServerRefusesBytesThatDoNotMatchTheirHash() throws Exception {
        byte[] bytes = "what was downloaded".getBytes();
        String claimed = sha256("something else".getBytes());
        assertThatThrownBy(() -> store.put(claimed, write(bytes), bytes.length)).isInstanceOf(StorageUnavailableException.class);
        assertThat(store.stat(claimed)).isEmpty();
    }

    @Test
    void presignedUrlsServeTheBytesWithTheGivenTypeUntilTheyExpire() throws Exception {
        byte[] bytes = "a picture".getBytes();
        String sha = sha256(bytes);
        store.put(sha, write(bytes), bytes.length);
        URI url = store.presignedGet(sha, Duration.ofMinutes(1), "image/png", "inline; filename=\"x.png\"").orElseThrow();
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(bytes);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("image/png");
    }

    @Test
    void unfinishedUploadsAreAbortedByTheJanitor() {
        try (var c = server.client()) {
            c.createMultipartUpload(b -> b.bucket(BUCKET).key("kiln/assets/ab/" + "ab".repeat(32)));
        }
        assertThat(store.abortStaleUploads(Instant.now().plusSeconds(60))).isGreaterThanOrEqualTo(1);
        assertThat(store.abortStaleUploads(Instant.now().plusSeconds(60))).isZero();
    }

    @Test
    void aMissingBucketIsAConfigurationErrorAndAnUnreachableServerIsNot() {
        StorageProperties.S3 missing = server.config("no-such-bucket", "", false);
        try (S3BlobStore s = new S3BlobStore(missing)) {
            assertThatThrownBy(s::checkBucket).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("KILN_S3_BUCKET 'no-such-bucket' does not exist");
        }
        StorageProperties.S3 down = new StorageProperties.S3("http://127.0.0.1:1", BUCKET, "us-east-1", "a", "b", "", false, null, null);
        try (S3BlobStore s = new S3BlobStore(down)) {
            s.checkBucket();
            assertThatThrownBy(() -> s.stat("ab".repeat(32))).isInstanceOf(StorageUnavailableException.class);
        }
    }
}

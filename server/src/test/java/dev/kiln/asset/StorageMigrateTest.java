package dev.kiln.asset;

import dev.kiln.asset.storage.Sha256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.asset.storage.local.LocalBlobStore;
import dev.kiln.asset.storage.s3.S3BlobStore;
import dev.kiln.testing.S3Server;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kiln storage migrate}: local folder to bucket, idempotent and resumable, with progress. */
class StorageMigrateTest {
    @TempDir Path dir;

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static String put(Path dataDir, byte[] bytes) throws Exception {
        String sha = sha256(bytes);
        Path f = dataDir.resolve(Sha256.relativePath(sha));
        Files.createDirectories(f.getParent());
        Files.write(f, bytes);
        return sha;
    }

    private int migrate(Path dataDir, S3Server s3, StringBuilder output) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code = StorageCli.run(new String[] {"migrate", "--kiln.data-dir=" + dataDir, "--kiln.storage.s3.endpoint=" + s3.endpoint(),
                "--kiln.storage.s3.bucket=kiln-migrate", "--kiln.storage.s3.access-key-id=" + S3Server.ACCESS_KEY,
                "--kiln.storage.s3.secret-access-key=" + S3Server.SECRET_KEY, "--kiln.storage.s3.prefix=moved",
                "--kiln.storage.s3.part-size=5MB", "--kiln.storage.s3.region=us-east-1"},
                new PrintStream(buf, true, StandardCharsets.UTF_8));
        output.setLength(0);
        output.append(buf.toString(StandardCharsets.UTF_8));
        return code;
    }

    @Test
    void copiesEveryBlobOnceAndResumesWhereItStopped() throws Exception {
        Path data = dir.resolve("data");
        byte[] big = new byte[11 * 1024 * 1024];
        new Random(3).nextBytes(big);
        List<String> shas = List.of(put(data, "one".getBytes()), put(data, "two".getBytes()), put(data, big));
        Files.writeString(Files.createDirectories(data.resolve("assets")).resolve(".kiln-store"), "not a blob\n");

        try (S3Server s3 = S3Server.start(dir.resolve("s3"), "kiln-migrate");
             S3BlobStore bucket = new S3BlobStore(s3.config("kiln-migrate", "moved", false))) {
            StringBuilder out = new StringBuilder();
            assertThat(migrate(data, s3, out)).as(out.toString()).isZero();
            assertThat(out).contains("3 blobs").contains("3 copied, 0 already there, 0 failed").contains("100%");
            for (String sha : shas) {
                try (InputStream in = bucket.open(sha, 0, -1)) {
                    assertThat(sha256(in.readAllBytes())).isEqualTo(sha);
                }
            }

            assertThat(migrate(data, s3, out)).isZero();
            assertThat(out).as("idempotent").contains("0 copied, 3 already there");

            // An interrupted run left one out: the next run copies just that one.
            bucket.delete(shas.get(2));
            assertThat(migrate(data, s3, out)).isZero();
            assertThat(out).contains("1 copied, 2 already there");
            assertThat(bucket.stat(shas.get(2))).isPresent();
            assertThat(new LocalBlobStore(data).stat(shas.get(0))).as("nothing removed locally").isPresent();
        }
    }

    @Test
    void saysWhatIsMissing() {
        StringBuilder out = new StringBuilder();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code = StorageCli.run(new String[] {"migrate", "--kiln.data-dir=" + dir}, new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(2);
        assertThat(buf.toString(StandardCharsets.UTF_8)).contains("set KILN_S3_BUCKET");
        assertThat(StorageCli.run(new String[] {"nonsense"}, new PrintStream(buf, true, StandardCharsets.UTF_8))).isEqualTo(2);
        assertThat(out).isEmpty();
    }
}

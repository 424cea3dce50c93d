package dev.kiln.asset;

import dev.kiln.testing.TestDatabases;
import dev.kiln.asset.storage.StorageProperties;
import dev.kiln.asset.storage.s3.S3BlobStore;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import org.springframework.util.unit.DataSize;

/**
 * Stores one generated video of {@code args[4]} bytes as a job output on an S3 bucket, reads it
 * back, and prints its hash: run by {@link BigUploadTest} in a JVM with a small heap, so that
 * buffering the file anywhere would fail with OutOfMemoryError.
 * Arguments: data dir, S3 endpoint, bucket, access key, size, secret key.
 */
final class BigUpload {
    private BigUpload() {}

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        long size = Long.parseLong(args[4]);
        StorageProperties.S3 s3 = new StorageProperties.S3(args[1], args[2], "us-east-1", args[3], args[5], "big/", false, null,
                DataSize.ofMegabytes(16));
        var storage = new StorageProperties(StorageProperties.Type.S3, null, null, null, s3);
        var ds = TestDatabases.h2();
        try (S3BlobStore store = new S3BlobStore(s3)) {
            AssetService service = TestAssets.service(AssetServiceTest.props(dataDir, null, false), storage, store, ds, Clock.systemUTC());
            long t = System.nanoTime();
            StoredMedia m;
            try (InputStream in = BigUploadTest.video(size)) {
                m = service.storeOutput(in, "video/mp4", size + 1);
            }
            Asset a = service.insertOutput("job_big", 0, "usr_big", m, false, null);
            long stored = System.nanoTime() - t;
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            t = System.nanoTime();
            try (InputStream in = service.open(a.sha256(), 0, -1)) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
            }
            long read = System.nanoTime() - t;
            service.stopProbes();
            System.out.println("RESULT " + a.sha256() + " " + HexFormat.of().formatHex(md.digest()) + " " + a.size() + " " + a.mime()
                    + " stored_ms=" + stored / 1_000_000 + " read_ms=" + read / 1_000_000
                    + " heap_max_mb=" + Runtime.getRuntime().maxMemory() / (1 << 20));
        } finally {
            ds.close();
        }
    }
}

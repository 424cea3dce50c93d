package dev.kiln.testing;

import dev.kiln.asset.storage.StorageProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3-compatible server for tests: S3Proxy (Maven Central, {@code org.gaul:s3proxy}, its
 * self-contained jar, which the build copies to {@code target/s3proxy/s3proxy.jar}) with its
 * filesystem backend, as a child process on a loopback port. {@link #stop()} and {@link #start()}
 * make a real outage: the port stops answering, and the objects are back when it returns.
 */
public final class S3Server implements AutoCloseable {
    public static final String ACCESS_KEY = "kiln-test";
    public static final String SECRET_KEY = "kiln-test-secret";
    private static final Path JAR = Path.of("target/s3proxy/s3proxy.jar");

    private final Path dir;
    private final int port;
    private Process process;

    private S3Server(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Starts a server keeping its objects under {@code dir}, with one empty bucket. */
    public static S3Server start(Path dir, String bucket) {
        if (!Files.isRegularFile(JAR)) throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: run the tests through Maven");
        S3Server s = new S3Server(dir, freePort());
        s.start();
        try (S3Client c = s.client()) {
            c.createBucket(b -> b.bucket(bucket));
        }
        return s;
    }

    public synchronized void start() {
        try {
            Files.createDirectories(dir.resolve("blobs"));
            Path conf = dir.resolve("s3proxy.conf");
            Files.writeString(conf, String.join("\n",
                    "s3proxy.endpoint=" + endpoint(),
                    "s3proxy.authorization=aws-v2-or-v4",
                    "s3proxy.identity=" + ACCESS_KEY,
                    "s3proxy.credential=" + SECRET_KEY,
                    "jclouds.provider=filesystem-nio2",
                    "jclouds.identity=" + ACCESS_KEY,
                    "jclouds.credential=" + SECRET_KEY,
                    "jclouds.filesystem.basedir=" + dir.resolve("blobs")) + "\n");
            process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", JAR.toAbsolutePath().toString(),
                    "--properties", conf.toString()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("s3proxy.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new IllegalStateException("S3Proxy exited: " + log());
            try (java.net.Socket ignored = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                sleep(100);
            }
        }
        throw new IllegalStateException("S3Proxy did not start: " + log());
    }

    /** The outage: the server is killed; its objects stay on disk for {@link #start()}. */
    public synchronized void stop() {
        if (process == null) return;
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public StorageProperties.S3 config(String bucket, String prefix, boolean presign) {
        return new StorageProperties.S3(endpoint(), bucket, "us-east-1", ACCESS_KEY, SECRET_KEY, prefix, presign, null, null);
    }

    /** The variables a Kiln process needs to use this server. */
    public Map<String, String> env(String bucket) {
        return Map.of("KILN_STORAGE", "s3", "KILN_S3_ENDPOINT", endpoint(), "KILN_S3_BUCKET", bucket,
                "KILN_S3_REGION", "us-east-1", "KILN_S3_ACCESS_KEY_ID", ACCESS_KEY, "KILN_S3_SECRET_ACCESS_KEY", SECRET_KEY);
    }

    public S3Client client() {
        return S3Client.builder().endpointOverride(URI.create(endpoint())).forcePathStyle(true).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY))).build();
    }

    private String log() {
        try {
            String l = Files.readString(dir.resolve("s3proxy.log"));
            return l.substring(Math.max(0, l.length() - 3000));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void close() {
        stop();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

package dev.kiln.asset.storage.s3;

import dev.kiln.asset.storage.BlobStore;
import dev.kiln.asset.storage.Sha256;
import dev.kiln.asset.storage.StorageProperties;
import dev.kiln.asset.storage.StorageUnavailableException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * Blobs as objects in an S3-compatible bucket, through the AWS SDK for Java v2:
 * {@code <prefix>assets/<sha256[0:2]>/<sha256>}, the same layout as the local folder (so
 * {@code kiln storage migrate} is a plain copy).
 *
 * <ul>
 *   <li>Path-style addressing whenever an endpoint is given: self-hosted servers rarely have a
 *       DNS name per bucket.
 *   <li>Checksums: every upload carries the SHA-256 of its bytes ({@code x-amz-checksum-sha256},
 *       per part for multipart uploads), which the server checks before it accepts them, and the
 *       object keeps Kiln's hash as metadata ({@code x-amz-meta-sha256}). After an upload, a HEAD
 *       confirms size and hash before the caller may record the blob as stored.
 *   <li>Files over the part size go up in parts (streamed from the file, one part in memory of
 *       the HTTP client at a time), so a video of gigabytes costs no more memory than a photo.
 *   <li>The SDK's default of adding CRC32 trailers to every upload is turned off (many
 *       S3-compatible servers refuse them); Kiln sends its own SHA-256 instead.
 * </ul>
 */
public final class S3BlobStore implements BlobStore, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(S3BlobStore.class);
    private static final String META_SHA = "sha256";

    private final S3Client s3;
    private final S3Presigner presigner;
    private final String bucket;
    private final String prefix;
    private final String endpoint;
    private final long partSize;

    public S3BlobStore(StorageProperties.S3 cfg) {
        this.bucket = cfg.bucket();
        this.prefix = cfg.prefix();
        this.endpoint = cfg.endpoint();
        this.partSize = cfg.partSize().toBytes();
        Region region = region(cfg.region());
        AwsCredentialsProvider credentials = cfg.accessKeyId() != null && cfg.secretAccessKey() != null
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(cfg.accessKeyId(), cfg.secretAccessKey()))
                : DefaultCredentialsProvider.builder().build();
        boolean pathStyle = cfg.endpoint() != null;
        var builder = S3Client.builder()
                .region(region)
                .credentialsProvider(credentials)
                .forcePathStyle(pathStyle)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(Apache5HttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(5))
                        .socketTimeout(Duration.ofSeconds(60))
                        .maxConnections(64));
        var presign = S3Presigner.builder().region(region).credentialsProvider(credentials)
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(pathStyle).build());
        if (cfg.endpoint() != null) {
            builder.endpointOverride(URI.create(cfg.endpoint()));
            presign.endpointOverride(URI.create(cfg.endpoint()));
        }
        this.s3 = builder.build();
        this.presigner = presign.build();
    }

    private static Region region(String configured) {
        if (configured != null) return Region.of(configured);
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkException none) {
            // Self-hosted servers mostly ignore the region, but requests must be signed with one.
            return Region.US_EAST_1;
        }
    }

    /**
     * Fails with a clear message when the bucket does not exist (a configuration error); an
     * unreachable server is only logged, so Kiln starts during an outage and stores later.
     */
    public void checkBucket() {
        try {
            s3.headBucket(b -> b.bucket(bucket));
        } catch (NoSuchBucketException e) {
            throw new IllegalStateException(missingBucket());
        } catch (S3Exception e) {
            if (e.statusCode() == 404) throw new IllegalStateException(missingBucket());
            log.warn("The bucket {} answered {} ({}); storing outputs will be retried until it works",
                    bucket, e.statusCode(), e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage());
        } catch (SdkException e) {
            log.warn("The bucket {} cannot be reached ({}); storing outputs will be retried until it can", bucket, e.getMessage());
        }
    }

    private String missingBucket() {
        return "KILN_S3_BUCKET '" + bucket + "' does not exist" + (endpoint == null ? "" : " at " + endpoint)
                + ": create it first (Kiln does not create buckets)";
    }

    String key(String sha256) {
        return prefix + Sha256.relativePath(sha256);
    }

    @Override
    public String describe() {
        return "s3 bucket " + bucket + (prefix.isEmpty() ? "" : " (prefix " + prefix + ")") + (endpoint == null ? "" : " at " + endpoint);
    }

    @Override
    public void put(String sha256, Path file, long size) {
        Optional<HeadObjectResponse> existing = head(key(sha256));
        if (existing.isPresent() && matches(existing.get(), sha256, size, false)) return;
        putNew(sha256, file, size);
    }

    @Override
    public void putNew(String sha256, Path file, long size) {
        String key = key(sha256);
        try {
            if (size <= partSize) {
                s3.putObject(b -> b.bucket(bucket).key(key).contentLength(size).contentType("application/octet-stream")
                        .checksumSHA256(base64(HexFormat.of().parseHex(sha256))).metadata(Map.of(META_SHA, sha256)),
                        RequestBody.fromFile(file));
            } else {
                putMultipart(key, sha256, file, size);
            }
        } catch (SdkException e) {
            throw unavailable("store " + key, e);
        }
        HeadObjectResponse stored = head(key).orElseThrow(() -> new StorageUnavailableException(
                "The object " + key + " is missing right after it was uploaded", null));
        if (!matches(stored, sha256, size, size <= partSize)) {
            throw new StorageUnavailableException("The object " + key + " does not match what was uploaded (size "
                    + stored.contentLength() + " of " + size + ", sha256 " + stored.metadata().get(META_SHA) + ")", null);
        }
    }

    /** Size and Kiln's hash; for single uploads also the checksum the server computed itself. */
    private static boolean matches(HeadObjectResponse h, String sha256, long size, boolean serverChecksum) {
        if (h.contentLength() == null || h.contentLength() != size) return false;
        if (!sha256.equals(h.metadata().get(META_SHA))) return false;
        return !serverChecksum || h.checksumSHA256() == null
                || h.checksumSHA256().equals(base64(HexFormat.of().parseHex(sha256)));
    }

    private void putMultipart(String key, String sha256, Path file, long size) {
        String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key).contentType("application/octet-stream")
                .checksumAlgorithm(ChecksumAlgorithm.SHA256).metadata(Map.of(META_SHA, sha256))).uploadId();
        boolean done = false;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            List<CompletedPart> parts = new ArrayList<>();
            int number = 1;
            for (long offset = 0; offset < size; offset += partSize, number++) {
                long len = Math.min(partSize, size - offset);
                String partSha = base64(digest(ch, offset, len));
                long from = offset;
                int n = number;
                UploadPartResponse r = s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(n)
                                .contentLength(len).checksumSHA256(partSha),
                        RequestBody.fromContentProvider(() -> slice(ch, from, len), len, "application/octet-stream"));
                parts.add(CompletedPart.builder().partNumber(n).eTag(r.eTag()).checksumSHA256(partSha).build());
            }
            s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
            done = true;
        } catch (IOException e) {
            throw new StorageUnavailableException("Cannot read " + file + " for upload", e);
        } finally {
            if (!done) {
                try {
                    s3.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
                } catch (SdkException e) {
                    // The janitor aborts it later (abortStaleUploads).
                    log.debug("Cannot abort the upload {} of {}: {}", uploadId, key, e.getMessage());
                }
            }
        }
    }

    private static byte[] digest(FileChannel ch, long offset, long len) throws IOException {
        MessageDigest md = sha256();
        ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
        long pos = offset, end = offset + len;
        while (pos < end) {
            buf.clear().limit((int) Math.min(buf.capacity(), end - pos));
            int n = ch.read(buf, pos);
            if (n < 0) throw new IOException("the file ended early");
            buf.flip();
            md.update(buf);
            pos += n;
        }
        return md.digest();
    }

    /** A part of the file as a stream of its own (the SDK may ask again for a retry). */
    private static InputStream slice(FileChannel ch, long offset, long len) {
        return new InputStream() {
            private long pos = offset;
            private final long end = offset + len;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int n) throws IOException {
                if (pos >= end) return -1;
                int r = ch.read(ByteBuffer.wrap(b, off, (int) Math.min(n, end - pos)), pos);
                if (r > 0) pos += r;
                return r;
            }
        };
    }

    @Override
    public Optional<BlobStat> stat(String sha256) {
        return head(key(sha256)).map(h -> new BlobStat(sha256, h.contentLength(), h.lastModified()));
    }

    private Optional<HeadObjectResponse> head(String key) {
        try {
            return Optional.of(s3.headObject(b -> b.bucket(bucket).key(key).checksumMode(ChecksumMode.ENABLED)));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return Optional.empty();
            throw unavailable("read " + key, e);
        } catch (SdkException e) {
            throw unavailable("read " + key, e);
        }
    }

    @Override
    public InputStream open(String sha256, long offset, long length) {
        String key = key(sha256);
        GetObjectRequest.Builder req = GetObjectRequest.builder().bucket(bucket).key(key);
        if (offset > 0 || length >= 0) req.range("bytes=" + offset + "-" + (length < 0 ? "" : String.valueOf(offset + length - 1)));
        try {
            return new Aborting(s3.getObject(req.build()));
        } catch (NoSuchKeyException e) {
            throw new BlobMissingException(sha256);
        } catch (S3Exception e) {
            if (e.statusCode() == 404) throw new BlobMissingException(sha256);
            throw unavailable("read " + key, e);
        } catch (SdkException e) {
            throw unavailable("read " + key, e);
        }
    }

    /**
     * Closing before the end aborts the connection instead of reading the rest (a client that
     * stops watching a video must not make Kiln download the remaining gigabyte).
     */
    private static final class Aborting extends FilterInputStream {
        private final ResponseInputStream<GetObjectResponse> response;
        private boolean ended;

        Aborting(ResponseInputStream<GetObjectResponse> response) {
            super(response);
            this.response = response;
        }

        @Override
        public int read() throws IOException {
            int b = wrap(super::read);
            if (b < 0) ended = true;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = wrap(() -> super.read(b, off, len));
            if (n < 0) ended = true;
            return n;
        }

        private interface Read {
            int read() throws IOException;
        }

        private static int wrap(Read r) throws IOException {
            try {
                return r.read();
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }

        @Override
        public void close() throws IOException {
            if (!ended) response.abort();
            super.close();
        }
    }

    @Override
    public void delete(String sha256) {
        String key = key(sha256);
        try {
            s3.deleteObject(b -> b.bucket(bucket).key(key));
        } catch (NoSuchKeyException e) {
            // Already gone.
        } catch (SdkException e) {
            throw unavailable("delete " + key, e);
        }
    }

    @Override
    public void forEach(Consumer<BlobStat> each) {
        String root = prefix + "assets/";
        try {
            for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(root)).contents()) {
                String sha = o.key().substring(o.key().lastIndexOf('/') + 1);
                if (Sha256.isValid(sha) && o.key().equals(key(sha))) each.accept(new BlobStat(sha, o.size(), o.lastModified()));
            }
        } catch (SdkException e) {
            throw unavailable("list " + root, e);
        }
    }

    @Override
    public Optional<URI> presignedGet(String sha256, Duration ttl, String contentType, String contentDisposition) {
        var signed = presigner.presignGetObject(p -> p.signatureDuration(ttl).getObjectRequest(g -> g.bucket(bucket).key(key(sha256))
                .responseContentType(contentType).responseContentDisposition(contentDisposition)));
        try {
            return Optional.of(signed.url().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public int abortStaleUploads(Instant olderThan) {
        int aborted = 0;
        try {
            for (MultipartUpload u : s3.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(prefix + "assets/")).uploads()) {
                if (u.initiated() != null && u.initiated().isBefore(olderThan)) {
                    s3.abortMultipartUpload(b -> b.bucket(bucket).key(u.key()).uploadId(u.uploadId()));
                    aborted++;
                }
            }
        } catch (SdkException e) {
            throw unavailable("list the unfinished uploads of " + bucket, e);
        }
        return aborted;
    }

    private StorageUnavailableException unavailable(String what, SdkException e) {
        String detail = e instanceof S3Exception s && s.awsErrorDetails() != null
                ? s.statusCode() + " " + s.awsErrorDetails().errorCode() + ": " + s.awsErrorDetails().errorMessage()
                : e.getMessage();
        return new StorageUnavailableException("Cannot " + what + " in bucket " + bucket + ": " + detail, e);
    }

    private static String base64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        s3.close();
        presigner.close();
    }
}

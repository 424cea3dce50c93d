package dev.kiln.asset.storage;

import java.time.Duration;
import java.util.Locale;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Where and how much Kiln stores ({@code kiln.storage.*}, bound from the KILN_STORAGE*, KILN_S3_*
 * and KILN_PROBE_* variables in application.yml), and the limits of probing stored videos.
 *
 * @param type         {@code local} (a folder in KILN_DATA_DIR, the default) or {@code s3}
 * @param quota        most bytes stored in all (outputs, inputs, thumbnails); null for no limit
 * @param probeTimeout longest a video may take to probe (container facts and poster frame)
 * @param probeMemory  heap of the process that probes videos
 */
@ConfigurationProperties("kiln.storage")
public record StorageProperties(Type type, DataSize quota, Duration probeTimeout, DataSize probeMemory, S3 s3) {

    public enum Type { LOCAL, S3 }

    /**
     * An S3-compatible bucket. Credentials and region fall back to the AWS SDK's own lookup
     * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, profiles, instance
     * roles) when not given here.
     *
     * @param endpoint   e.g. {@code http://127.0.0.1:9000} for a self-hosted server (then addressed
     *                   path-style, {@code endpoint/bucket/key}); null for AWS itself
     * @param prefix     prepended to every key, e.g. {@code kiln/}; empty for none
     * @param presign    answer {@code GET /v1/assets/{id}} with a redirect to a short-lived
     *                   presigned URL instead of streaming through Kiln
     * @param presignTtl how long a presigned URL stays valid
     * @param partSize   files larger than this are uploaded in parts of this size
     */
    public record S3(String endpoint, String bucket, String region, String accessKeyId, String secretAccessKey,
                     String prefix, boolean presign, Duration presignTtl, DataSize partSize) {

        public S3 {
            endpoint = blankToNull(endpoint);
            bucket = blankToNull(bucket);
            region = blankToNull(region);
            accessKeyId = blankToNull(accessKeyId);
            secretAccessKey = blankToNull(secretAccessKey);
            prefix = prefix == null ? "" : prefix.strip().replaceAll("^/+", "");
            if (!prefix.isEmpty() && !prefix.endsWith("/")) prefix += "/";
            if (presignTtl == null) presignTtl = Duration.ofMinutes(5);
            if (partSize == null) partSize = DataSize.ofMegabytes(16);
            if (partSize.toBytes() < DataSize.ofMegabytes(5).toBytes()) {
                // S3 refuses parts under 5 MiB (but the last).
                throw new IllegalArgumentException("KILN_S3_PART_SIZE must be at least 5MB, got " + partSize);
            }
        }

        public static S3 none() {
            return new S3(null, null, null, null, null, null, false, null, null);
        }
    }

    public StorageProperties {
        if (type == null) type = Type.LOCAL;
        if (quota != null && quota.toBytes() <= 0) quota = null;
        if (probeTimeout == null) probeTimeout = Duration.ofSeconds(30);
        if (probeMemory == null) probeMemory = DataSize.ofMegabytes(256);
        if (s3 == null) s3 = S3.none();
        if (type == Type.S3 && s3.bucket() == null) {
            throw new IllegalArgumentException("KILN_STORAGE=s3 needs KILN_S3_BUCKET (and usually KILN_S3_ENDPOINT and credentials)");
        }
    }

    /** The defaults: a local folder, no quota. */
    public static StorageProperties local() {
        return new StorageProperties(Type.LOCAL, null, null, null, null);
    }

    /** The quota in bytes, or -1 for none. */
    public long quotaBytes() {
        return quota == null ? -1 : quota.toBytes();
    }

    public String typeName() {
        return type.name().toLowerCase(Locale.ROOT);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}

package dev.kiln.asset.storage;

import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Where the bytes of assets live: immutable blobs named by the SHA-256 of their content. One
 * implementation per backend ({@code local/}: a folder, {@code s3/}: an S3-compatible bucket);
 * everything above this interface (hashing, probing, the database rows, quotas, serving) is the
 * same for both.
 *
 * <p>Failures of the backend (a disk error, a bucket that does not answer) are
 * {@link StorageUnavailableException}: worth retrying later, never the client's fault.
 */
public interface BlobStore {

    /** For logs and messages: which folder or bucket. */
    String describe();

    /**
     * Stores the file's bytes under their hash and returns once they are durable and verified
     * (size, and the checksum where the backend checks one). Storing a hash that is already there
     * is harmless. The store may take the file (a local store moves it into place); the caller
     * removes it afterwards if it is still there.
     */
    void put(String sha256, Path file, long size);

    /**
     * {@link #put} for a blob that was never recorded as stored: the store need not look for a
     * copy first (for a bucket, one request less per blob).
     */
    default void putNew(String sha256, Path file, long size) {
        put(sha256, file, size);
    }

    /** The blob's size and time, or empty when it is not stored. */
    Optional<BlobStat> stat(String sha256);

    /**
     * Opens {@code length} bytes of the blob from {@code offset} ({@code length < 0}: to the end).
     *
     * @throws BlobMissingException when there is no such blob
     */
    InputStream open(String sha256, long offset, long length);

    /** Removes the blob if it is there. */
    void delete(String sha256);

    /** Every stored blob, in no particular order. */
    void forEach(Consumer<BlobStat> each);

    /**
     * A URL that lets anyone read the blob until it expires, answered with this content type and
     * disposition; empty when the backend cannot make one (a local folder).
     */
    default Optional<URI> presignedGet(String sha256, Duration ttl, String contentType, String contentDisposition) {
        return Optional.empty();
    }

    /** Drops uploads that were started before {@code olderThan} and never finished (crashes). */
    default int abortStaleUploads(Instant olderThan) {
        return 0;
    }

    /** A stored blob. */
    record BlobStat(String sha256, long size, Instant modified) {}

    /** There is no blob under that hash. */
    final class BlobMissingException extends RuntimeException {
        public BlobMissingException(String sha256) {
            super("no stored blob " + sha256, null, false, false);
        }
    }
}

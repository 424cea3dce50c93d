package dev.kiln.asset;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Temporary files for bytes on their way into storage: {@code <dataDir>/tmp}. Bytes are streamed
 * there and hashed on the way, so their SHA-256 (the blob's name) and size are known before
 * anything reaches the store, and probing reads a local file whatever the backend. A staged file
 * is synced, so the local store's rename (same file system) places it complete.
 *
 * <p>Disk failures surface as {@link UncheckedIOException} (an internal error); only a size over
 * the limit is the client's fault ({@link MediaException}).
 */
final class Staging {
    private static final Logger log = LoggerFactory.getLogger(Staging.class);
    /**
     * Temporary files older than this are left-overs of a crashed process. Younger ones may be an
     * upload in progress by another instance sharing the data directory, so they are kept.
     */
    static final Duration STALE_TEMP = Duration.ofHours(1);

    private final Path tmp;

    Staging(Path dataDir) {
        this.tmp = dataDir.resolve("tmp");
        try {
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the temporary directory " + tmp, e);
        }
        cleanStaleTemp(Instant.now().minus(STALE_TEMP));
    }

    /** Bytes written to a temporary file and hashed. */
    static final class Staged implements AutoCloseable {
        private final Path file;
        private final String sha256;
        private final long size;

        private Staged(Path file, String sha256, long size) {
            this.file = file;
            this.sha256 = sha256;
            this.size = size;
        }

        String sha256() { return sha256; }
        long size() { return size; }

        /** The temporary file (a local store may have moved it into place already). */
        Path file() { return file; }

        /** Removes the temporary file if it is still there. */
        @Override
        public void close() {
            deleteQuietly(file);
        }
    }

    /**
     * Streams {@code in} to a temporary file, hashing it, and refuses it with {@link MediaException}
     * past {@code maxBytes} (the partial file is removed). The stream is read, not closed.
     *
     * @throws IOException only when reading {@code in} fails; the caller knows whose fault that is
     *     (a broken upload, bad base64). Failures of the disk are {@link UncheckedIOException}.
     */
    Staged stage(InputStream in, long maxBytes) throws IOException {
        Path file;
        FileChannel ch;
        try {
            file = Files.createTempFile(tmp, "in-", ".part");
            ch = FileChannel.open(file, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a temporary file in " + tmp, e);
        }
        boolean ok = false;
        try {
            MessageDigest sha = sha256Digest();
            byte[] buf = new byte[64 * 1024];
            long size = 0;
            int n;
            while ((n = in.read(buf)) != -1) {
                size += n;
                if (size > maxBytes) throw MediaException.tooLarge(maxBytes);
                sha.update(buf, 0, n);
                writeFully(ch, buf, n, file);
            }
            closeSynced(ch, file);
            ok = true;
            return new Staged(file, HexFormat.of().formatHex(sha.digest()), size);
        } finally {
            if (!ok) {
                closeQuietly(ch);
                deleteQuietly(file);
            }
        }
    }

    /** Stages bytes already in memory (thumbnails). */
    Staged stage(byte[] bytes) {
        try {
            return stage(new ByteArrayInputStream(bytes), bytes.length);
        } catch (IOException e) {
            throw new IllegalStateException("reading a byte array cannot fail", e);
        }
    }

    void cleanStaleTemp(Instant olderThan) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
            for (Path f : files) {
                try {
                    if (Files.isRegularFile(f) && Files.getLastModifiedTime(f).toInstant().isBefore(olderThan)) {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException e) {
                    log.warn("Cannot remove the stale temporary file {}: {}", f, e.toString());
                }
            }
        } catch (IOException e) {
            log.warn("Cannot list {}: {}", tmp, e.toString());
        }
    }

    private static void writeFully(FileChannel ch, byte[] buf, int n, Path file) {
        try {
            ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
            while (b.hasRemaining()) ch.write(b);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file, e);
        }
    }

    /** Synced before the rename, so a file under its hash is never a torn write. */
    private static void closeSynced(FileChannel ch, Path file) {
        try (ch) {
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file, e);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // The file is deleted next; a failed close changes nothing.
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.warn("Cannot remove the temporary file {}: {}", file, e.toString());
        }
    }

    static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}

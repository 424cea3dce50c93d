package dev.kiln.asset;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Content-addressed files: {@code <dataDir>/assets/<sha256[0:2]>/<sha256>}. Bytes are streamed to a
 * temporary file in {@code <dataDir>/tmp} (same file system, so the final rename is atomic) and
 * hashed on the way; a file therefore only ever appears under its hash complete and synced.
 * Storing the same bytes twice is harmless: the second copy is dropped.
 *
 * <p>Disk failures surface as {@link UncheckedIOException} (an internal error); only a size over
 * the limit is the client's fault ({@link MediaException}).
 */
final class AssetStore {
    private static final Logger log = LoggerFactory.getLogger(AssetStore.class);
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    /**
     * Temporary files older than this are left-overs of a crashed process. Younger ones may be an
     * upload in progress by another instance sharing the data directory, so they are kept.
     */
    static final Duration STALE_TEMP = Duration.ofHours(1);

    private final Path assets;
    private final Path tmp;

    AssetStore(Path dataDir) {
        this.assets = dataDir.resolve("assets");
        this.tmp = dataDir.resolve("tmp");
        try {
            Files.createDirectories(assets);
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the asset directories under " + dataDir, e);
        }
        cleanStaleTemp(Instant.now().minus(STALE_TEMP));
    }

    /** Bytes written to a temporary file and hashed, not yet under their hash. */
    final class Staged implements AutoCloseable {
        private final Path file;
        private final String sha256;
        private final long size;
        private boolean done;

        private Staged(Path file, String sha256, long size) {
            this.file = file;
            this.sha256 = sha256;
            this.size = size;
        }

        String sha256() { return sha256; }
        long size() { return size; }

        /** The temporary file, to be inspected before {@link #commit()}. */
        Path file() { return file; }

        /** Moves the bytes into place (or drops them if that hash is already stored); returns the hash. */
        String commit() {
            if (done) throw new IllegalStateException("already committed or discarded");
            done = true;
            place(file, sha256);
            return sha256;
        }

        /** Discards the temporary file unless it was committed. */
        @Override
        public void close() {
            if (done) return;
            done = true;
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

    /** Stores the whole stream at once; returns its hash. */
    String put(InputStream in, long maxBytes) throws IOException {
        try (Staged s = stage(in, maxBytes)) {
            return s.commit();
        }
    }

    /** Stores bytes already in memory (thumbnails). */
    String put(byte[] bytes) {
        try {
            return put(new ByteArrayInputStream(bytes), bytes.length);
        } catch (IOException e) {
            throw new IllegalStateException("reading a byte array cannot fail", e);
        }
    }

    Path path(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a sha256 hash: " + sha256);
        }
        return assets.resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    boolean exists(String sha256) {
        return Files.isRegularFile(path(sha256));
    }

    /** Removes the file of that hash; false if there was none. */
    boolean delete(String sha256) {
        try {
            return Files.deleteIfExists(path(sha256));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete asset file " + sha256, e);
        }
    }

    /** The hashes of stored files last written (or stored again) before {@code instant}. */
    List<String> hashesOlderThan(Instant instant) {
        List<String> hashes = new ArrayList<>();
        try (DirectoryStream<Path> shards = Files.newDirectoryStream(assets, Files::isDirectory)) {
            for (Path shard : shards) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(shard)) {
                    for (Path f : files) {
                        String name = f.getFileName().toString();
                        if (SHA256.matcher(name).matches() && Files.getLastModifiedTime(f).toInstant().isBefore(instant)) {
                            hashes.add(name);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + assets, e);
        }
        return hashes;
    }

    private void place(Path file, String sha256) {
        Path target = path(sha256);
        try {
            Files.createDirectories(target.getParent());
            if (Files.exists(target)) {
                // Same hash, same bytes. Refresh the time so that a sweep of old unreferenced files
                // cannot take it away while the caller is about to insert the row that uses it.
                Files.delete(file);
                touch(target);
                return;
            }
            try {
                Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException raced) {
                // Another writer placed the same bytes between our check and our move.
                Files.delete(file);
            } catch (AtomicMoveNotSupportedException e) {
                throw new UncheckedIOException("The data directory must allow atomic renames from tmp/ to assets/", e);
            }
        } catch (IOException e) {
            deleteQuietly(file);
            throw new UncheckedIOException("Cannot store asset file " + sha256, e);
        }
    }

    private static void touch(Path target) {
        try {
            Files.setLastModifiedTime(target, FileTime.from(Instant.now()));
        } catch (NoSuchFileException gone) {
            // Deleted at this very moment; the caller's row will point at nothing, as documented
            // on AssetService.delete. Nothing better can be done here.
        } catch (IOException e) {
            log.debug("Cannot refresh the time of {}", target, e);
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

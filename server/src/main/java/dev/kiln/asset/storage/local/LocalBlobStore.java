package dev.kiln.asset.storage.local;

import dev.kiln.asset.storage.BlobStore;
import dev.kiln.asset.storage.Sha256;
import dev.kiln.asset.storage.StorageUnavailableException;
import java.io.IOException;
import java.io.InputStream;
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
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Blobs as files: {@code <root>/assets/<sha256[0:2]>/<sha256>}, the layout Kiln always had. A file
 * only ever appears under its hash complete: it is written and synced elsewhere on the same file
 * system, then renamed into place atomically.
 */
public final class LocalBlobStore implements BlobStore {
    private final Path root;
    private final Path assets;

    /** @param root the data directory; blobs go below {@code root/assets} */
    public LocalBlobStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
        this.assets = this.root.resolve("assets");
        try {
            Files.createDirectories(assets);
        } catch (IOException e) {
            throw new StorageUnavailableException("Cannot create the asset folder " + assets, e);
        }
    }

    public Path root() {
        return root;
    }

    /** The file of a blob (which may not exist). */
    public Path path(String sha256) {
        return root.resolve(Sha256.relativePath(sha256));
    }

    @Override
    public String describe() {
        return "local folder " + assets;
    }

    @Override
    public void put(String sha256, Path file, long size) {
        Path target = path(sha256);
        try {
            if (Files.isRegularFile(target) && Files.size(target) == size) return;
            Files.createDirectories(target.getParent());
            try {
                Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException raced) {
                // Another writer placed the same bytes between our check and our move.
            } catch (AtomicMoveNotSupportedException otherFileSystem) {
                // The file comes from elsewhere: copy it next to the target, then rename.
                Path tmp = Files.createTempFile(target.getParent(), ".put-", ".part");
                try {
                    Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
                    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                        ch.force(true);
                    }
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            long stored = Files.size(target);
            if (stored != size) {
                throw new StorageUnavailableException("The stored file " + target + " has " + stored + " bytes, not " + size, null);
            }
        } catch (IOException e) {
            throw new StorageUnavailableException("Cannot store asset file " + sha256 + " in " + assets, e);
        }
    }

    @Override
    public Optional<BlobStat> stat(String sha256) {
        try {
            BasicFileAttributes a = Files.readAttributes(path(sha256), BasicFileAttributes.class);
            return a.isRegularFile() ? Optional.of(new BlobStat(sha256, a.size(), a.lastModifiedTime().toInstant())) : Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new StorageUnavailableException("Cannot read " + path(sha256), e);
        }
    }

    @Override
    public InputStream open(String sha256, long offset, long length) {
        Path file = path(sha256);
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            return new Slice(ch, offset, length < 0 ? Long.MAX_VALUE : length);
        } catch (NoSuchFileException e) {
            throw new BlobMissingException(sha256);
        } catch (IOException e) {
            throw new StorageUnavailableException("Cannot read " + file, e);
        }
    }

    @Override
    public void delete(String sha256) {
        try {
            Files.deleteIfExists(path(sha256));
        } catch (IOException e) {
            throw new StorageUnavailableException("Cannot delete asset file " + sha256, e);
        }
    }

    @Override
    public void forEach(Consumer<BlobStat> each) {
        try (DirectoryStream<Path> shards = Files.newDirectoryStream(assets, Files::isDirectory)) {
            for (Path shard : shards) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(shard)) {
                    for (Path f : files) {
                        String name = f.getFileName().toString();
                        if (!Sha256.isValid(name)) continue;
                        try {
                            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                            if (a.isRegularFile()) each.accept(new BlobStat(name, a.size(), a.lastModifiedTime().toInstant()));
                        } catch (NoSuchFileException gone) {
                            // Removed while listing.
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new StorageUnavailableException("Cannot list " + assets, e);
        }
    }

    /** Up to {@code remaining} bytes of a file channel from {@code position}. */
    private static final class Slice extends InputStream {
        private final FileChannel ch;
        private long position;
        private long remaining;

        Slice(FileChannel ch, long position, long remaining) {
            this.ch = ch;
            this.position = position;
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            if (remaining <= 0) return -1;
            int n = ch.read(ByteBuffer.wrap(b, off, (int) Math.min(len, remaining)), position);
            if (n < 0) return -1;
            position += n;
            remaining -= n;
            return n;
        }

        @Override
        public long skip(long n) {
            long k = Math.max(0, Math.min(n, remaining));
            position += k;
            remaining -= k;
            return k;
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}

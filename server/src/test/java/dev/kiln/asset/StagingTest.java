package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.asset.storage.BlobStore;
import dev.kiln.asset.storage.local.LocalBlobStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Staging (hashing to a temporary file) and the local blob store (content-addressed files). */
class StagingTest {
    @TempDir Path dataDir;

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private long filesIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void storesUnderTheHashAndOnlyOnce() throws Exception {
        Staging staging = new Staging(dataDir);
        LocalBlobStore store = new LocalBlobStore(dataDir);
        byte[] bytes = "hello, kiln".getBytes();
        String sha;
        try (Staging.Staged s = staging.stage(new ByteArrayInputStream(bytes), 1000)) {
            sha = s.sha256();
            store.put(s.sha256(), s.file(), s.size());
        }
        assertThat(sha).isEqualTo(sha256(bytes));
        Path file = dataDir.resolve("assets").resolve(sha.substring(0, 2)).resolve(sha);
        assertThat(store.path(sha)).isEqualTo(file);
        assertThat(file).hasBinaryContent(bytes);
        assertThat(store.stat(sha)).hasValueSatisfying(b -> assertThat(b.size()).isEqualTo(bytes.length));

        try (Staging.Staged s = staging.stage(bytes)) {
            store.put(s.sha256(), s.file(), s.size());
        }
        assertThat(filesIn(dataDir.resolve("assets"))).isEqualTo(1);
        assertThat(filesIn(dataDir.resolve("tmp"))).isZero();

        store.delete(sha);
        assertThat(file).doesNotExist();
        assertThat(store.stat(sha)).isEmpty();
        store.delete(sha);
    }

    @Test
    void readsRangesAndSaysWhenABlobIsMissing() throws Exception {
        Staging staging = new Staging(dataDir);
        LocalBlobStore store = new LocalBlobStore(dataDir);
        byte[] bytes = "0123456789".getBytes();
        String sha;
        try (Staging.Staged s = staging.stage(bytes)) {
            sha = s.sha256();
            store.put(sha, s.file(), s.size());
        }
        try (InputStream in = store.open(sha, 3, 4)) {
            assertThat(in.readAllBytes()).isEqualTo("3456".getBytes());
        }
        try (InputStream in = store.open(sha, 8, -1)) {
            assertThat(in.readAllBytes()).isEqualTo("89".getBytes());
        }
        assertThatThrownBy(() -> store.open("ab".repeat(32), 0, -1)).isInstanceOf(BlobStore.BlobMissingException.class);
        List<String> listed = new ArrayList<>();
        store.forEach(b -> listed.add(b.sha256()));
        assertThat(listed).containsExactly(sha);
    }

    @Test
    void refusesPastTheLimitAndLeavesNothingBehind() {
        Staging staging = new Staging(dataDir);
        assertThatThrownBy(() -> staging.stage(new ByteArrayInputStream(new byte[2049]), 2048))
                .isInstanceOf(MediaException.class).hasMessage("is larger than 2 KB");
        assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
    }

    @Test
    void exactlyTheLimitIsAccepted() throws Exception {
        try (Staging.Staged s = new Staging(dataDir).stage(new ByteArrayInputStream(new byte[2048]), 2048)) {
            assertThat(s.size()).isEqualTo(2048);
            assertThat(s.file()).hasParent(dataDir.resolve("tmp"));
        }
        assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
    }

    @Test
    void aFailingSourceLeavesNoTemporaryFile() {
        Staging staging = new Staging(dataDir);
        InputStream broken = new InputStream() {
            int n;
            @Override
            public int read() throws IOException {
                if (n++ < 100) return 7;
                throw new IOException("connection reset");
            }
        };
        assertThatThrownBy(() -> staging.stage(broken, 10_000)).isInstanceOf(IOException.class);
        assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
    }

    @Test
    void staleTemporaryFilesAreRemovedAtStartButRecentOnesKept() throws Exception {
        Path tmp = Files.createDirectories(dataDir.resolve("tmp"));
        Path stale = Files.writeString(tmp.resolve("in-1.part"), "left by a crash");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        Path recent = Files.writeString(tmp.resolve("in-2.part"), "another instance's upload");

        new Staging(dataDir);

        assertThat(stale).doesNotExist();
        assertThat(recent).exists();
    }

    @Test
    void rejectsPathsThatAreNotHashes() {
        LocalBlobStore store = new LocalBlobStore(dataDir);
        assertThatThrownBy(() -> store.path("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.path("AB".repeat(32))).isInstanceOf(IllegalArgumentException.class);
    }
}

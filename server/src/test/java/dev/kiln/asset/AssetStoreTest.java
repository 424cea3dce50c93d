package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AssetStoreTest {
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
        AssetStore store = new AssetStore(dataDir);
        byte[] bytes = "hello, kiln".getBytes();
        String sha = store.put(new ByteArrayInputStream(bytes), 1000);

        assertThat(sha).isEqualTo(sha256(bytes));
        Path file = dataDir.resolve("assets").resolve(sha.substring(0, 2)).resolve(sha);
        assertThat(store.path(sha)).isEqualTo(file);
        assertThat(file).hasBinaryContent(bytes);
        assertThat(store.exists(sha)).isTrue();

        assertThat(store.put(bytes)).isEqualTo(sha);
        assertThat(filesIn(dataDir.resolve("assets"))).isEqualTo(1);
        assertThat(filesIn(dataDir.resolve("tmp"))).isZero();

        assertThat(store.delete(sha)).isTrue();
        assertThat(file).doesNotExist();
        assertThat(store.exists(sha)).isFalse();
        assertThat(store.delete(sha)).isFalse();
    }

    @Test
    void refusesPastTheLimitAndLeavesNothingBehind() {
        AssetStore store = new AssetStore(dataDir);
        assertThatThrownBy(() -> store.put(new ByteArrayInputStream(new byte[2049]), 2048))
                .isInstanceOf(MediaException.class).hasMessage("is larger than 2 KB");
        assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
        assertThat(dataDir.resolve("assets")).isEmptyDirectory();
    }

    @Test
    void exactlyTheLimitIsAccepted() throws Exception {
        AssetStore store = new AssetStore(dataDir);
        assertThat(store.exists(store.put(new ByteArrayInputStream(new byte[2048]), 2048))).isTrue();
    }

    @Test
    void stagedBytesAppearOnlyWhenCommitted() throws Exception {
        AssetStore store = new AssetStore(dataDir);
        byte[] bytes = {1, 2, 3};
        String sha;
        try (AssetStore.Staged s = store.stage(new ByteArrayInputStream(bytes), 10)) {
            sha = s.sha256();
            assertThat(s.size()).isEqualTo(3);
            assertThat(s.file()).hasBinaryContent(bytes).hasParent(dataDir.resolve("tmp"));
            assertThat(store.exists(sha)).isFalse();
        }
        assertThat(store.exists(sha)).isFalse();
        assertThat(dataDir.resolve("tmp")).isEmptyDirectory();

        try (AssetStore.Staged s = store.stage(new ByteArrayInputStream(bytes), 10)) {
            s.commit();
        }
        assertThat(store.exists(sha)).isTrue();
        assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
    }

    @Test
    void aFailingSourceLeavesNoTemporaryFile() {
        AssetStore store = new AssetStore(dataDir);
        InputStream broken = new InputStream() {
            int n;
            @Override
            public int read() throws IOException {
                if (n++ < 100) return 7;
                throw new IOException("connection reset");
            }
        };
        assertThatThrownBy(() -> store.stage(broken, 10_000)).isInstanceOf(IOException.class);
        assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
    }

    @Test
    void staleTemporaryFilesAreRemovedAtStartButRecentOnesKept() throws Exception {
        Path tmp = Files.createDirectories(dataDir.resolve("tmp"));
        Path stale = Files.writeString(tmp.resolve("in-1.part"), "left by a crash");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        Path recent = Files.writeString(tmp.resolve("in-2.part"), "another instance's upload");

        new AssetStore(dataDir);

        assertThat(stale).doesNotExist();
        assertThat(recent).exists();
    }

    @Test
    void rejectsPathsThatAreNotHashes() {
        AssetStore store = new AssetStore(dataDir);
        assertThatThrownBy(() -> store.path("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.path("AB".repeat(32))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void listsFilesOlderThanAnInstant() throws Exception {
        AssetStore store = new AssetStore(dataDir);
        String old = store.put("old".getBytes());
        String fresh = store.put("fresh".getBytes());
        Files.setLastModifiedTime(store.path(old), FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        assertThat(store.hashesOlderThan(Instant.now().minus(Duration.ofDays(1)))).containsExactly(old);

        // Storing the same bytes again makes them new: a sweep must not take them before their row exists.
        store.put("old".getBytes());
        assertThat(store.hashesOlderThan(Instant.now().minus(Duration.ofDays(1)))).isEmpty();
        assertThat(fresh).isNotEqualTo(old);
    }
}

package dev.kiln.asset;

import dev.kiln.testing.TestDatabases;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.emulator.render.SandboxVideoRenderer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Video probing runs in a helper process with a time and a memory limit. Two 100-byte MP4 files
 * show why: one sends jcodec's box reader into an endless loop (a 64-bit box size of 0, which it
 * never advances past), the other makes it allocate 2 GB (a {@code moov} box that claims that
 * size). In-process, without limits, the first never returns and the second throws
 * OutOfMemoryError in Kiln's own heap; with the limits each costs one killed helper and the video
 * is stored without facts.
 */
class VideoProbeLimitsTest {
    @TempDir Path dir;

    static final byte[] FTYP = box("ftyp", "isom".getBytes(StandardCharsets.US_ASCII), new byte[] {0, 0, 2, 0},
            "isommp41".getBytes(StandardCharsets.US_ASCII));

    /** An ftyp, then a box whose 64-bit size is 0. */
    static byte[] hanging() {
        ByteBuffer b = ByteBuffer.allocate(FTYP.length + 16 + 64);
        b.put(FTYP).putInt(1).put("free".getBytes(StandardCharsets.US_ASCII)).putLong(0);
        return b.array();
    }

    /** An ftyp, then a moov box claiming 2 GB of which 64 bytes follow. */
    static byte[] exploding() {
        ByteBuffer b = ByteBuffer.allocate(FTYP.length + 8 + 64);
        b.put(FTYP).putInt(0x7FFFFF00).put("moov".getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    private static byte[] box(String type, byte[]... parts) {
        int len = 8;
        for (byte[] p : parts) len += p.length;
        ByteBuffer b = ByteBuffer.allocate(len).putInt(len).put(type.getBytes(StandardCharsets.US_ASCII));
        for (byte[] p : parts) b.put(p);
        return b.array();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    /** The old way, in a JVM of its own so the test survives it: {@code UnlimitedProbe} on the file. */
    private Process unlimited(Path file, String heap) throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
                "-cp", System.getProperty("java.class.path"), UnlimitedProbe.class.getName(), file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve(file.getFileName() + ".log").toFile()).start();
    }

    @Test
    void withoutLimitsTheFilesHangOrExhaustTheHeap() throws Exception {
        Process hang = unlimited(write("hang.mp4", hanging()), "256m");
        Process boom = unlimited(write("boom.mp4", exploding()), "256m");
        try {
            // Checked first, ten seconds from its start: left alone long enough, the endless loop
            // also fills the heap, which is no better an answer.
            assertThat(hang.waitFor(10, TimeUnit.SECONDS)).as("still probing after 10 s").isFalse();
            assertThat(boom.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(dir.resolve("boom.mp4.log"))).contains("OutOfMemoryError");
            assertThat(Files.readString(dir.resolve("hang.mp4.log"))).doesNotContain("facts:");
        } finally {
            hang.destroyForcibly();
            boom.destroyForcibly();
        }
    }

    @Test
    void withLimitsTheyAreStoppedAndTheNextVideoIsProbedAsUsual() throws Exception {
        try (VideoProbes probes = new VideoProbes(Duration.ofSeconds(4), 128L << 20)) {
            long t = System.nanoTime();
            assertThat(probes.probe(write("hang.mp4", hanging()), "video/mp4", 50_000_000)).isEqualTo(VideoProbes.Result.UNKNOWN);
            long hangMs = (System.nanoTime() - t) / 1_000_000;
            assertThat(hangMs).as("stopped at the time limit").isBetween(3_500L, 15_000L);

            t = System.nanoTime();
            assertThat(probes.probe(write("boom.mp4", exploding()), "video/mp4", 50_000_000)).isEqualTo(VideoProbes.Result.UNKNOWN);
            assertThat((System.nanoTime() - t) / 1_000_000).as("the helper died of its heap limit, long before the time limit")
                    .isLessThan(4_000L);

            VideoProbes.Result ok = probes.probe(write("ok.mp4", SandboxVideoRenderer.render("mp4", 96, 64, 8, 16, "fine", 1)),
                    "video/mp4", 50_000_000);
            assertThat(List.of(ok.width(), ok.height(), ok.frames())).containsExactly(96, 64, 8);
            assertThat(ok.poster()).isNotNull();
        }
    }

    @Test
    void anOutputThatHangsTheProbeIsStoredWithoutFacts() throws Exception {
        var ds = TestDatabases.h2();
        try {
            var storage = new dev.kiln.asset.storage.StorageProperties(null, null, Duration.ofSeconds(3), null, null);
            AssetService service = TestAssets.service(AssetServiceTest.props(dir, null, false), storage,
                    new dev.kiln.asset.storage.local.LocalBlobStore(dir), ds, java.time.Clock.systemUTC());
            long t = System.nanoTime();
            StoredMedia m = service.storeOutput(new ByteArrayInputStream(hanging()), "video/mp4", 10_000);
            assertThat((System.nanoTime() - t) / 1_000_000).isLessThan(15_000L);
            assertThat(m.mime()).isEqualTo("video/mp4");
            assertThat(m.width()).isNull();
            assertThat(m.thumbSha256()).isNull();
            service.stopProbes();
        } finally {
            ds.close();
        }
    }
}

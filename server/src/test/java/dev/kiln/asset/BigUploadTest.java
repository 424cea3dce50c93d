package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.testing.S3Server;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 GiB video output goes to the bucket streamed, in parts, with bounded memory: the whole
 * store-and-read-back runs in a JVM with a 96 MB heap ({@link BigUpload}), on a file generated on
 * the fly, and the bytes that come back hash as the ones generated.
 */
class BigUploadTest {
    static final long SIZE = 1L << 30;
    @TempDir Path dir;

    /** An MP4 container (ftyp, then one mdat box) of exactly {@code size} bytes, generated as it is read. */
    static InputStream video(long size) {
        ByteBuffer head = ByteBuffer.allocate(32);
        head.putInt(24).put("ftypisom".getBytes(StandardCharsets.US_ASCII)).putInt(512).put("isommp41".getBytes(StandardCharsets.US_ASCII));
        head.putInt((int) Math.min(0xFFFFFFFFL, size - 24)).put("mdat".getBytes(StandardCharsets.US_ASCII));
        byte[] header = head.array();
        return new InputStream() {
            long pos;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= size) return -1;
                int n = (int) Math.min(len, size - pos);
                for (int i = 0; i < n; i++) {
                    long p = pos + i;
                    b[off + i] = p < header.length ? header[(int) p] : (byte) (p * 31 + (p >>> 13));
                }
                pos += n;
                return n;
            }
        };
    }

    @Test
    void aOneGigabyteVideoIsStoredAndReadBackInBoundedMemory() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = video(SIZE)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
        }
        String expected = HexFormat.of().formatHex(md.digest());

        try (S3Server s3 = S3Server.start(dir.resolve("s3"), "kiln-big")) {
            Path log = dir.resolve("big.log");
            Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx96m",
                    "-cp", System.getProperty("java.class.path"), BigUpload.class.getName(), dir.resolve("data").toString(),
                    s3.endpoint(), "kiln-big", S3Server.ACCESS_KEY, Long.toString(SIZE), S3Server.SECRET_KEY))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertThat(p.waitFor(8, TimeUnit.MINUTES)).as("finished").isTrue();
            String out = Files.readString(log);
            assertThat(p.exitValue()).as(out).isZero();
            String result = out.lines().filter(l -> l.startsWith("RESULT ")).findFirst().orElseThrow();
            System.out.println("BigUploadTest: " + result);
            String[] f = result.split(" ");
            assertThat(f[1]).as("stored under the hash of what was generated").isEqualTo(expected);
            assertThat(f[2]).as("read back from the bucket").isEqualTo(expected);
            assertThat(f[3]).isEqualTo(Long.toString(SIZE));
            assertThat(f[4]).isEqualTo("video/mp4");
            try (var c = s3.client()) {
                var head = c.headObject(b -> b.bucket("kiln-big").key("big/assets/" + expected.substring(0, 2) + "/" + expected));
                assertThat(head.contentLength()).isEqualTo(SIZE);
                assertThat(head.metadata()).containsEntry("sha256", expected);
            }
        }
    }
}

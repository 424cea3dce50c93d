package dev.kiln.asset;

import dev.kiln.asset.storage.BlobStore;
import dev.kiln.asset.storage.StorageProperties;

import dev.kiln.asset.storage.local.LocalBlobStore;
import dev.kiln.asset.storage.s3.S3BlobStore;
import dev.kiln.config.KilnProperties;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

/**
 * {@code kiln storage migrate}: copies the local asset folder (KILN_DATA_DIR/assets) into the
 * bucket configured by the KILN_S3_* variables, so an installation can move to KILN_STORAGE=s3.
 * Idempotent and resumable: a blob already in the bucket with the same size and hash is skipped,
 * so an interrupted run is simply run again. Every upload is checked like Kiln's own (checksum,
 * size, hash) before it counts. Nothing is deleted locally.
 *
 * <p>It reads the same configuration as the server (environment, {@code --kiln.*} arguments)
 * through a Spring context without web server, database or engine.
 */
public final class StorageCli {
    private StorageCli() {}

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties({KilnProperties.class, StorageProperties.class})
    static class Settings {}

    /** @return the process exit code */
    public static int run(String[] args, PrintStream out) {
        if (args.length == 0 || !args[0].equals("migrate")) {
            out.println("usage: kiln storage migrate    copy KILN_DATA_DIR/assets into the bucket of KILN_S3_BUCKET (KILN_S3_*)");
            return 2;
        }
        KilnProperties kiln;
        StorageProperties storage;
        try (ConfigurableApplicationContext ctx = new SpringApplicationBuilder(Settings.class).web(WebApplicationType.NONE)
                .bannerMode(Banner.Mode.OFF).logStartupInfo(false).run(Arrays.copyOfRange(args, 1, args.length))) {
            kiln = ctx.getBean(KilnProperties.class);
            storage = ctx.getBean(StorageProperties.class);
        }
        if (storage.s3().bucket() == null) {
            out.println("kiln storage migrate: set KILN_S3_BUCKET (and KILN_S3_ENDPOINT, credentials) to the bucket to copy into");
            return 2;
        }
        Path assets = kiln.dataDir().resolve("assets");
        if (!Files.isDirectory(assets)) {
            out.println("kiln storage migrate: " + assets + " does not exist; nothing to copy (is KILN_DATA_DIR right?)");
            return 2;
        }
        try (S3BlobStore target = new S3BlobStore(storage.s3())) {
            target.checkBucket();
            Result r = migrate(new LocalBlobStore(kiln.dataDir()), target, new Progress(out, System.console() != null));
            out.println("kiln storage migrate: " + r.copied() + " copied, " + r.skipped() + " already there, " + r.failed()
                    + " failed, from " + assets + " to the " + target.describe());
            if (r.failed() > 0) {
                out.println("Run it again to retry the failed ones (what is in the bucket is skipped).");
                return 1;
            }
            out.println("Every blob is in the bucket. Start Kiln with KILN_STORAGE=s3; the local folder can go once you are satisfied.");
            return 0;
        } catch (IllegalStateException e) {
            out.println("kiln storage migrate: " + e.getMessage());
            return 2;
        }
    }

    /** How a migration went. */
    public record Result(long copied, long skipped, long failed) {}

    /** Copies every blob of {@code from} that {@code to} lacks. */
    public static Result migrate(LocalBlobStore from, BlobStore to, Progress progress) {
        long[] total = {0, 0};
        from.forEach(b -> {
            total[0]++;
            total[1] += b.size();
        });
        progress.start(total[0], total[1]);
        long[] counts = {0, 0, 0};
        from.forEach(b -> {
            try {
                if (to.stat(b.sha256()).filter(s -> s.size() == b.size()).isPresent()) {
                    counts[1]++;
                } else {
                    to.put(b.sha256(), from.path(b.sha256()), b.size());
                    counts[0]++;
                }
            } catch (RuntimeException e) {
                counts[2]++;
                progress.failed(b.sha256(), e.getMessage());
            }
            progress.advance(b.size());
        });
        progress.finish();
        return new Result(counts[0], counts[1], counts[2]);
    }

    /** A progress bar on a terminal; a line every few seconds otherwise (logs, CI). */
    public static final class Progress {
        private final PrintStream out;
        private final boolean terminal;
        private long files, bytes, doneFiles, doneBytes, started, lastPrint;

        public Progress(PrintStream out, boolean terminal) {
            this.out = out;
            this.terminal = terminal;
        }

        void start(long files, long bytes) {
            this.files = files;
            this.bytes = bytes;
            this.started = System.nanoTime();
            out.println("kiln storage migrate: " + files + " blobs, " + size(bytes));
        }

        void advance(long size) {
            doneFiles++;
            doneBytes += size;
            long now = System.nanoTime();
            if (doneFiles == files || now - lastPrint > (terminal ? 200_000_000L : 5_000_000_000L)) {
                lastPrint = now;
                print(now);
            }
        }

        void failed(String sha, String why) {
            if (terminal) out.println();
            out.println("  failed " + sha + ": " + why);
        }

        void finish() {
            if (terminal && files > 0) out.println();
        }

        private void print(long now) {
            double fraction = bytes == 0 ? (files == 0 ? 1 : (double) doneFiles / files) : (double) doneBytes / bytes;
            int width = 30, filled = (int) Math.round(fraction * width);
            double seconds = Math.max(1e-3, (now - started) / 1e9);
            double rate = doneBytes / seconds;
            long eta = rate <= 0 ? 0 : (long) ((bytes - doneBytes) / rate);
            String line = String.format(Locale.ROOT, "[%s%s] %3d%%  %d/%d blobs  %s/%s  %s/s  ETA %d:%02d",
                    "#".repeat(filled), "-".repeat(width - filled), Math.round(fraction * 100), doneFiles, files,
                    size(doneBytes), size(bytes), size((long) rate), eta / 60, eta % 60);
            if (terminal) out.print("\r" + line);
            else out.println(line);
        }

        static String size(long b) {
            if (b < 1024) return b + " B";
            if (b < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KB", b / 1024.0);
            if (b < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MB", b / 1048576.0);
            return String.format(Locale.ROOT, "%.2f GB", b / 1073741824.0);
        }
    }
}

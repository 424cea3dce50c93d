package dev.kiln.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Saves the outputs of succeeded jobs into the output folder while the batch runs, a few at a
 * time. A file already there with the size and SHA-256 the server reports is kept (that is how
 * {@code --resume} skips what an earlier session saved); anything else is downloaded to a hidden
 * {@code .part} file, checked against the same size and hash, and renamed into place, so a file
 * under its final name is always whole.
 */
final class Downloader {
    private static final int ATTEMPTS = 4;

    /** Files saved now, kept from before, and jobs whose outputs could not be saved. */
    record Stats(int saved, int kept, int failed, int pending) {}

    private final Api api;
    private final Manifest manifest;
    private final Runnable onChange;
    private final ExecutorService pool;
    private final AtomicInteger saved = new AtomicInteger();
    private final AtomicInteger kept = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile int total;

    Downloader(Api api, Manifest manifest, int parallel, Runnable onChange) {
        this.api = api;
        this.manifest = manifest;
        this.onChange = onChange;
        this.pool = Executors.newFixedThreadPool(parallel, Thread.ofVirtual().name("kiln-download-", 0).factory());
    }

    /** The batch size, for the width of the numbers in file names. */
    void total(int total) {
        this.total = total;
    }

    void submit(Wire.Job job, int position) {
        pending.incrementAndGet();
        pool.execute(() -> {
            try {
                save(job, position);
            } finally {
                pending.decrementAndGet();
                onChange.run();
            }
        });
    }

    Stats stats() {
        return new Stats(saved.get(), kept.get(), failed.get(), pending.get());
    }

    boolean idle() {
        return pending.get() == 0;
    }

    /** Stops taking work; downloads in flight are abandoned (their .part files are redone on resume). */
    void shutdownNow() {
        pool.shutdownNow();
    }

    void shutdown() throws InterruptedException {
        pool.shutdown();
        pool.awaitTermination(1, TimeUnit.MINUTES);
    }

    private void save(Wire.Job job, int position) {
        List<Manifest.FileEntry> files = new ArrayList<>();
        List<Wire.Output> outs = job.outputs();
        try {
            for (int i = 0; i < outs.size(); i++) {
                Wire.Output o = outs.get(i);
                String known = manifest.knownFile(job.id(), i);
                String name = known != null ? known : FileNames.of(position, Math.max(total, position), job, i, outs.size(), o.mime());
                Path target = manifest.dir().resolve(name);
                if (matches(target, o)) {
                    kept.incrementAndGet();
                } else {
                    fetch(o, target);
                    saved.incrementAndGet();
                }
                files.add(new Manifest.FileEntry(name, o.size(), o.sha256(), o.mime(), o.width(), o.height()));
            }
            manifest.files(job.id(), files);
        } catch (CliException | IOException e) {
            failed.incrementAndGet();
            manifest.files(job.id(), files);
            manifest.downloadFailed(job.id(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the file is already there, whole: same size, and same SHA-256 when the server gives one. */
    static boolean matches(Path file, Wire.Output o) throws IOException {
        if (!Files.isRegularFile(file) || Files.size(file) != o.size()) return false;
        if (o.sha256() == null) return true;
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = sha256();
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) d.update(buf, 0, n);
            return HexFormat.of().formatHex(d.digest()).equalsIgnoreCase(o.sha256());
        }
    }

    /**
     * Downloads one output. A failed or mismatching download is tried {@link #ATTEMPTS} times; while
     * the server is unreachable (a restart) it waits as long as the batch does, so an outage does
     * not turn into missing files.
     */
    private void fetch(Wire.Output o, Path target) throws IOException, InterruptedException {
        String path = o.url() != null && o.url().startsWith("/") ? o.url() : "/v1/assets/" + o.assetId();
        boolean external = o.url() != null && o.url().matches("(?i)https?://.*");
        Path part = target.resolveSibling("." + target.getFileName() + ".part");
        String last = null;
        int failures = 0;
        long unreachableSince = 0;
        while (true) {
            try {
                HttpResponse<InputStream> res = external ? api.openExternal(o.url(), Duration.ofSeconds(30)) : api.open(path, "*/*", Duration.ofSeconds(30));
                unreachableSince = 0;
                MessageDigest d = sha256();
                long size;
                try (InputStream in = new DigestInputStream(res.body(), d); OutputStream out = Files.newOutputStream(part)) {
                    size = in.transferTo(out);
                }
                String hash = HexFormat.of().formatHex(d.digest());
                if (size == o.size() && (o.sha256() == null || hash.equalsIgnoreCase(o.sha256()))) {
                    try {
                        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                    return;
                }
                last = "the download of " + o.assetId() + " does not match the server's size and SHA-256 (" + size + " bytes, expected " + o.size() + ")";
                failures++;
            } catch (CliException.Unreachable e) {
                if (unreachableSince == 0) unreachableSince = System.nanoTime();
                last = e.getMessage().lines().findFirst().orElse("unreachable");
                if (System.nanoTime() - unreachableSince > Follower.GIVE_UP.toNanos()) failures = ATTEMPTS;
            } catch (CliException.Refused e) {
                // 404 and friends will not change by asking again.
                if (e.status() / 100 == 4) {
                    Files.deleteIfExists(part);
                    throw new IOException("cannot download " + o.assetId() + ": " + e.problem().describe());
                }
                last = e.problem().describe();
                failures++;
            } catch (CliException | IOException e) {
                last = e.getMessage();
                failures++;
            }
            Files.deleteIfExists(part);
            if (failures >= ATTEMPTS) throw new IOException("cannot download " + o.assetId() + " (" + failures + " attempts): " + last);
            Thread.sleep(unreachableSince != 0 ? 2_000 : 500L << failures);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}

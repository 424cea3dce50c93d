package dev.kiln.asset;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes stored videos (container facts and a poster thumbnail) in separate JVMs
 * ({@link VideoProbeWorker}) with a heap limit and a time limit: a file that makes jcodec loop
 * or allocate without bound costs one killed helper process, not a stuck job runner or an
 * OutOfMemoryError in Kiln. Such a video is stored all the same, without facts or poster, as any
 * video Kiln cannot read.
 *
 * <p>Up to {@link #MAX_WORKERS} helpers run at once (probing is CPU-bound); an idle helper is kept
 * for the next video and exits by itself after a minute.
 */
final class VideoProbes implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VideoProbes.class);
    static final int MAX_WORKERS = 2;

    /** What a probe found; any field may be null. */
    record Result(Integer width, Integer height, Integer frames, Double fps, Long durationMs, Thumbnails.Thumbnail poster) {
        static final Result UNKNOWN = new Result(null, null, null, null, null, null);
    }

    private final Duration timeout;
    private final long heapBytes;
    private final Semaphore slots = new Semaphore(MAX_WORKERS);
    private final ConcurrentLinkedDeque<Worker> idle = new ConcurrentLinkedDeque<>();

    VideoProbes(Duration timeout, long heapBytes) {
        this.timeout = timeout;
        this.heapBytes = heapBytes;
    }

    /** The facts and poster of a video, or {@link Result#UNKNOWN} when it cannot be read within the limits. */
    Result probe(Path file, String mime, long maxPixels) {
        slots.acquireUninterruptibly();
        try {
            for (int attempt = 0; attempt < 2; attempt++) {
                Worker w = idle.pollFirst();
                boolean reused = w != null;
                if (w == null) w = Worker.start(heapBytes);
                long deadline = System.nanoTime() + timeout.toNanos();
                try {
                    String line = w.ask(mime + "\t" + maxPixels + "\t" + file.toAbsolutePath(), deadline);
                    if (line == null) {
                        w.kill();
                        // A reused helper may have exited idle just before the question: ask a new one.
                        if (reused) continue;
                        log.warn("Probing {} ({}) ended the probe process ({}); stored without facts or poster",
                                file.getFileName(), mime, w.exitDescription());
                        return Result.UNKNOWN;
                    }
                    idle.addFirst(w);
                    return parse(line);
                } catch (TimeoutException e) {
                    w.kill();
                    log.warn("Probing {} ({}) took longer than {}; stopped, stored without facts or poster",
                            file.getFileName(), mime, timeout);
                    return Result.UNKNOWN;
                }
            }
            return Result.UNKNOWN;
        } finally {
            slots.release();
        }
    }

    private static Result parse(String line) {
        String[] f = line.split("\t", -1);
        if (f.length != 7) return Result.UNKNOWN;
        Thumbnails.Thumbnail poster = null;
        if (!f[5].equals("-") && !f[6].equals("-")) {
            byte[] bytes = Base64.getDecoder().decode(f[6]);
            poster = new Thumbnails.Thumbnail(bytes, f[5], 0, 0);
        }
        return new Result(integer(f[0]), integer(f[1]), integer(f[2]), f[3].equals("-") ? null : Double.valueOf(f[3]),
                f[4].equals("-") ? null : Long.valueOf(f[4]), poster);
    }

    private static Integer integer(String s) {
        return s.equals("-") ? null : Integer.valueOf(s);
    }

    @Override
    public void close() {
        Worker w;
        while ((w = idle.pollFirst()) != null) w.kill();
    }

    /** One helper process. */
    private static final class Worker {
        private final Process process;
        private final Writer in;
        private final BufferedReader out;

        private Worker(Process process) {
            this.process = process;
            this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        static Worker start(long heapBytes) {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(List.of("-Xmx" + Math.max(32, heapBytes >> 20) + "m", "-XX:+ExitOnOutOfMemoryError",
                    "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xss2m", "-Djava.awt.headless=true"));
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            if (VideoProbes.class.getClassLoader().getClass().getName().startsWith("org.springframework.boot.loader")) {
                // Kiln runs from its executable jar: the jar's own launcher finds the nested classes.
                cmd.add("-Dloader.main=" + VideoProbeWorker.class.getName());
                cmd.add("org.springframework.boot.loader.launch.PropertiesLauncher");
            } else {
                cmd.add(VideoProbeWorker.class.getName());
            }
            try {
                Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                return new Worker(p);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("Cannot start the video probe process", e);
            }
        }

        /** The answer line, or null when the process ended without one. */
        String ask(String request, long deadlineNanos) throws TimeoutException {
            CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    in.write(request + "\n");
                    in.flush();
                    return out.readLine();
                } catch (IOException e) {
                    return null;
                }
            }, Thread::startVirtualThread);
            try {
                return answer.get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
                return null;
            } catch (ExecutionException e) {
                return null;
            }
        }

        String exitDescription() {
            try {
                return process.waitFor(2, TimeUnit.SECONDS) ? "exit code " + process.exitValue() : "still running";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }

        void kill() {
            process.destroyForcibly();
        }
    }
}

package dev.kiln.crash;

import dev.kiln.testing.Http;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Kiln as a child JVM (the test JVM's own classpath, main class {@code dev.kiln.KilnApplication}),
 * configured only through environment variables as an operator would, so that a test can
 * {@code kill -9} it ({@link Process#destroyForcibly()}) and start it again on the same data.
 */
final class KilnProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    final Http http;
    final int port;

    private KilnProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
        this.http = new Http("http://127.0.0.1:" + port);
    }

    /**
     * Starts Kiln and waits until {@code /health} answers.
     *
     * @param env KILN_* variables (data dir, database, sandbox latency, ...)
     * @param log where the child's console output goes
     */
    static KilnProcess start(int port, Map<String, String> env, Path log, Duration startTimeout) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Start fast and small: the test measures recovery, not peak speed.
        cmd.addAll(List.of("-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k"));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.kiln.KilnApplication"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("KILN_") || k.endsWith("_API_KEY") || k.endsWith("_API_TOKEN")
                || k.equals("FAL_KEY") || k.equals("COMFYUI_URL") || k.equals("PUBLIC_BASE_URL"));
        pb.environment().put("PORT", Integer.toString(port));
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        KilnProcess k = new KilnProcess(p, log, port);
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) throw new IllegalStateException("Kiln exited with " + p.exitValue() + " while starting:\n" + k.logTail());
            try {
                if (k.http.get("/health").status() == 200) return k;
            } catch (RuntimeException notYet) {
                // connection refused until the server is up
            }
            sleep(100);
        }
        k.kill();
        throw new IllegalStateException("Kiln did not start within " + startTimeout + ":\n" + k.logTail());
    }

    /** {@code kill -9}: no shutdown hook, no graceful stop, nothing flushed that was not already. */
    void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(Duration.ofSeconds(30))) throw new IllegalStateException("Kiln did not die");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    long pid() {
        return process.pid();
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) kill();
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

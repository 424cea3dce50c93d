import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Store-and-serve throughput of Kiln's two storage backends: a local folder and an S3-compatible
 * bucket (S3Proxy on loopback, filesystem backend). For each: Kiln from the jar in sandbox mode at
 * latency 0 takes a run of JOBS sandbox-image jobs of SIZE×SIZE (PNG outputs, each stored with
 * its thumbnail) and the time from POST to the last success gives jobs/s and MB/s stored; then
 * CLIENTS concurrent clients GET the outputs for SECONDS and give requests/s and MB/s served.
 * Only JDK classes: java bench/StorageBench.java server/target/kiln.jar server/target/s3proxy/s3proxy.jar
 */
public class StorageBench {
    static final int JOBS = Integer.getInteger("jobs", 300), SIZE = Integer.getInteger("size", 1024);
    static final int CLIENTS = Integer.getInteger("clients", 16), SECONDS = Integer.getInteger("seconds", 10);
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args[0]), s3jar = Path.of(args[1]);
        Path tmp = Files.createTempDirectory("kiln-storage-bench");
        List<String> rows = new ArrayList<>();
        rows.add(bench("local", jar, tmp.resolve("local"), Map.of()));
        int s3port = freePort();
        Path blobs = Files.createDirectories(tmp.resolve("s3blobs"));
        Path conf = tmp.resolve("s3proxy.conf");
        Files.writeString(conf, "s3proxy.endpoint=http://127.0.0.1:" + s3port + "\ns3proxy.authorization=none\n"
                + "jclouds.provider=filesystem-nio2\njclouds.identity=x\njclouds.credential=y\njclouds.filesystem.basedir=" + blobs + "\n");
        Process s3 = new ProcessBuilder(java(), "-Xmx256m", "-jar", s3jar.toString(), "--properties", conf.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("s3proxy.log").toFile()).start();
        try {
            waitFor("http://127.0.0.1:" + s3port + "/", 60);
            send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s3port + "/bench")).PUT(HttpRequest.BodyPublishers.noBody()).build());
            rows.add(bench("s3", jar, tmp.resolve("s3"), Map.of("KILN_STORAGE", "s3", "KILN_S3_ENDPOINT", "http://127.0.0.1:" + s3port,
                    "KILN_S3_BUCKET", "bench", "KILN_S3_ACCESS_KEY_ID", "x", "KILN_S3_SECRET_ACCESS_KEY", "y", "KILN_S3_REGION", "us-east-1")));
        } finally {
            s3.destroyForcibly();
        }
        System.out.println();
        System.out.printf("%d jobs of %dx%d PNG (+ thumbnail), then %d clients GET outputs for %d s%n", JOBS, SIZE, SIZE, CLIENTS, SECONDS);
        System.out.println("| backend | stored jobs/s | stored MB/s | served req/s | served MB/s | GET p99 |");
        System.out.println("| --- | --- | --- | --- | --- | --- |");
        rows.forEach(System.out::println);
    }

    static String bench(String name, Path jar, Path data, Map<String, String> env) throws Exception {
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder(java(), "-Xmx1g", "-jar", jar.toString())
                .redirectErrorStream(true).redirectOutput(Files.createDirectories(data).resolve("kiln.log").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("KILN_") || k.startsWith("AWS_"));
        Map<String, String> e = new HashMap<>(env);
        e.put("PORT", Integer.toString(port));
        e.put("KILN_DATA_DIR", data.toString());
        e.put("KILN_SANDBOX", "on");
        e.put("KILN_SANDBOX_LATENCY", "0s");
        e.put("KILN_MAX_RUN_JOBS", Integer.toString(Math.max(1000, JOBS)));
        pb.environment().putAll(e);
        Process kiln = pb.start();
        String base = "http://127.0.0.1:" + port;
        try {
            waitFor(base + "/health", 120);
            runJobs(base, 50); // warm-up
            long t = System.nanoTime();
            String run = runJobs(base, JOBS);
            double secs = (System.nanoTime() - t) / 1e9;
            List<String> urls = new ArrayList<>();
            long bytes = 0;
            Matcher m = Pattern.compile("\"url\":\"(/v1/assets/[^\"]+)\",\"thumbnail_url\"").matcher(get(base + "/v1/runs/" + run));
            while (m.find()) urls.add(m.group(1));
            Matcher sizes = Pattern.compile("\"size\":(\\d+),\"sha256\"").matcher(get(base + "/v1/runs/" + run));
            while (sizes.find()) bytes += Long.parseLong(sizes.group(1));
            double storedMb = bytes / 1048576.0 / secs;
            // Serving: CLIENTS threads GET random outputs until the time is up.
            AtomicLong requests = new AtomicLong(), served = new AtomicLong();
            ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
            long end = System.nanoTime() + SECONDS * 1_000_000_000L;
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int seed = c;
                threads.add(Thread.ofPlatform().start(() -> {
                    java.util.Random r = new java.util.Random(seed);
                    while (System.nanoTime() < end) {
                        long s = System.nanoTime();
                        HttpResponse<byte[]> resp = send(HttpRequest.newBuilder(URI.create(base + urls.get(r.nextInt(urls.size())))).build());
                        if (resp.statusCode() != 200) throw new IllegalStateException("GET answered " + resp.statusCode());
                        latencies.add(System.nanoTime() - s);
                        requests.incrementAndGet();
                        served.addAndGet(resp.body().length);
                    }
                }));
            }
            for (Thread th : threads) th.join();
            List<Long> l = new ArrayList<>(latencies);
            l.sort(null);
            double p99 = l.get((int) (l.size() * 0.99)) / 1e6;
            return String.format("| %s | %.0f | %.1f | %.0f | %.0f | %.1f ms |", name, JOBS / secs, storedMb,
                    requests.get() / (double) SECONDS, served.get() / 1048576.0 / SECONDS, p99);
        } finally {
            kiln.destroy();
            kiln.waitFor();
        }
    }

    static String runJobs(String base, int n) throws Exception {
        StringBuilder prompts = new StringBuilder();
        for (int i = 0; i < n; i++) prompts.append(i == 0 ? "" : ",").append("\"bench ").append(System.nanoTime()).append(' ').append(i).append('"');
        String body = "{\"model\":\"sandbox-image\",\"params\":{\"width\":" + SIZE + ",\"height\":" + SIZE + "},\"prompts\":[" + prompts + "]}";
        HttpResponse<byte[]> r = send(HttpRequest.newBuilder(URI.create(base + "/v1/runs")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
        Matcher id = Pattern.compile("\"id\":\"(run_[^\"]+)\"").matcher(new String(r.body()));
        if (r.statusCode() != 202 || !id.find()) throw new IllegalStateException("POST /v1/runs: " + r.statusCode() + " " + new String(r.body()));
        String run = id.group(1);
        while (true) {
            String s = get(base + "/v1/runs/" + run).replaceAll("\"jobs\":\\[.*", "");
            if (!s.contains("\"status\":\"running\"")) {
                if (!s.contains("\"status\":\"succeeded\"")) throw new IllegalStateException("run ended: " + s.substring(0, Math.min(400, s.length())));
                return run;
            }
            Thread.sleep(500);
        }
    }

    static String get(String url) {
        return new String(send(HttpRequest.newBuilder(URI.create(url)).build()).body());
    }

    static HttpResponse<byte[]> send(HttpRequest req) {
        try {
            return HTTP.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void waitFor(String url, int seconds) throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            try {
                HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException(url + " did not answer");
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

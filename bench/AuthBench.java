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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What authentication costs on GET /v1/jobs/{id}: p50 and p99 from 32 concurrent clients against
 * an idle engine (200 finished jobs, random ids), for a local-mode Kiln (no credentials at all)
 * and a KILN_AUTH=on Kiln called with x-admin-key (no lookup), a session cookie, a session token
 * (Bearer) and an API key (X-API-Key) — each looked up in the credentials table per request.
 * Both Kilns run at once; after a warm-up round, each case runs 5 s, three rounds taking turns;
 * the table shows medians.
 *   java bench/AuthBench.java server/target/kiln.jar
 */
public class AuthBench {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    static final int CLIENTS = 32;
    static final int JOBS = 200;

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args.length > 0 ? args[0] : "server/target/kiln.jar");
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        // Both Kilns run at once and the cases take turns, so that the load of a shared machine
        // falls on all of them alike.
        try (Kiln local = Kiln.start(jar, Map.of("KILN_AUTH", "local", "KILN_SANDBOX_LATENCY", "0s"));
             Kiln on = Kiln.start(jar, Map.of("KILN_AUTH", "on", "KILN_ADMIN_KEY", "bench-admin", "KILN_SANDBOX_LATENCY", "0s",
                     "KILN_START_CREDITS", "1000000"))) {
            Map<String, String> admin = Map.of("x-admin-key", "bench-admin");
            on.send("POST", "/v1/admin/users", "{\"username\":\"bench\",\"password\":\"bench-password\"}", admin);
            String login = on.send("POST", "/v1/auth/login", "{\"username\":\"bench\",\"password\":\"bench-password\"}", Map.of()).body();
            String token = field(login, "session_token");
            String key = field(on.send("POST", "/v1/api-keys", "{\"name\":\"bench\"}", Map.of("Authorization", "Bearer " + token)).body(), "key");
            List<String> localIds = jobs(local, Map.of());
            List<String> onIds = jobs(on, Map.of("Authorization", "Bearer " + token));
            record Case(Kiln kiln, List<String> ids, Map<String, String> auth) {}
            Map<String, Case> cases = new LinkedHashMap<>();
            cases.put("local mode, no credentials", new Case(local, localIds, Map.of()));
            cases.put("auth on, x-admin-key (no lookup)", new Case(on, onIds, admin));
            cases.put("auth on, session cookie", new Case(on, onIds, Map.of("Cookie", "kiln_session=" + token)));
            cases.put("auth on, session token (Bearer)", new Case(on, onIds, Map.of("Authorization", "Bearer " + token)));
            cases.put("auth on, API key (X-API-Key)", new Case(on, onIds, Map.of("X-API-Key", key)));
            // Warm-up: every case once, unrecorded.
            for (Case c : cases.values()) measure(c.kiln(), c.ids(), c.auth());
            for (int round = 0; round < 3; round++) {
                for (var c : cases.entrySet()) {
                    results.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add(measure(c.getValue().kiln(), c.getValue().ids(), c.getValue().auth()));
                }
            }
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "GET /v1/jobs/{id}, %d clients, idle engine, medians of 3 rounds of 5 s (%s, %d cores)%n%n",
                CLIENTS, System.getProperty("os.name"), Runtime.getRuntime().availableProcessors());
        System.out.println("| caller | requests/s | p50 ms | p99 ms |");
        System.out.println("| --- | --- | --- | --- |");
        results.forEach((name, rounds) -> System.out.printf(Locale.ROOT, "| %s | %.0f | %.2f | %.2f |%n", name,
                median(rounds.stream().mapToDouble(r -> r[0]).toArray()), median(rounds.stream().mapToDouble(r -> r[1]).toArray()),
                median(rounds.stream().mapToDouble(r -> r[2]).toArray())));
    }

    /** A finished run of small jobs; their ids. */
    static List<String> jobs(Kiln k, Map<String, String> auth) throws Exception {
        String run = k.send("POST", "/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"auth bench\"],\"count\":" + JOBS
                + ",\"params\":{\"width\":64,\"height\":64}}", auth).body();
        List<String> ids = new ArrayList<>();
        Matcher m = Pattern.compile("\"id\":\"(job_[a-z0-9]+)\"").matcher(run);
        while (m.find()) ids.add(m.group(1));
        if (ids.size() != JOBS) throw new IllegalStateException("run not accepted: " + run);
        String runId = field(run, "id");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!k.send("GET", "/v1/runs?limit=1", null, auth).body().contains("\"status\":\"succeeded\"")) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("run " + runId + " did not finish");
            Thread.sleep(200);
        }
        return ids;
    }

    /** {requests per second, p50 ms, p99 ms} of 5 s of GETs (after 1 s of warm-up). */
    static double[] measure(Kiln k, List<String> ids, Map<String, String> auth) throws Exception {
        ConcurrentLinkedQueue<Double> out = new ConcurrentLinkedQueue<>();
        AtomicBoolean record = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < CLIENTS; c++) {
                ex.submit(() -> {
                    while (!stop.get()) {
                        String id = ids.get(ThreadLocalRandom.current().nextInt(ids.size()));
                        long t = System.nanoTime();
                        HttpResponse<String> a = k.send("GET", "/v1/jobs/" + id, null, auth);
                        double ms = (System.nanoTime() - t) / 1e6;
                        if (a.statusCode() != 200) failures.add(a.statusCode() + " " + a.body());
                        else if (record.get()) out.add(ms);
                    }
                    return null;
                });
            }
            Thread.sleep(1000);
            record.set(true);
            Thread.sleep(5000);
            record.set(false);
            stop.set(true);
        }
        if (!failures.isEmpty()) throw new IllegalStateException(failures.size() + " failed GETs, e.g. " + failures.getFirst());
        double[] v = out.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new double[] {v.length / 5.0, pct(v, 0.50), pct(v, 0.99)};
    }

    static double pct(double[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        if (!m.find()) throw new IllegalStateException("no " + name + " in " + json);
        return m.group(1);
    }

    record Kiln(Process process, String base, Path data) implements AutoCloseable {
        static Kiln start(Path jar, Map<String, String> env) throws Exception {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Path data = Files.createTempDirectory("kiln-authbench");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            for (String o : System.getenv().getOrDefault("KILN_JAVA_OPTS", "-Xmx1g").trim().split("\\s+")) if (!o.isBlank()) cmd.add(o);
            cmd.addAll(List.of("-jar", jar.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolve("kiln.log").toFile()));
            pb.environment().keySet().removeIf(k -> k.startsWith("KILN_") || k.endsWith("_API_KEY") || k.endsWith("_API_TOKEN")
                    || k.equals("FAL_KEY") || k.equals("COMFYUI_URL") || k.equals("PUBLIC_BASE_URL"));
            pb.environment().put("PORT", Integer.toString(port));
            pb.environment().put("KILN_DATA_DIR", data.toString());
            pb.environment().put("KILN_SANDBOX", "on");
            pb.environment().putAll(env);
            Kiln k = new Kiln(pb.start(), "http://127.0.0.1:" + port, data);
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (!k.process.isAlive()) throw new IllegalStateException("Kiln exited; see " + data.resolve("kiln.log"));
                try {
                    if (k.send("GET", "/health", null, Map.of()).statusCode() == 200) return k;
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(200);
            }
            k.close();
            throw new IllegalStateException("Kiln did not start; see " + data.resolve("kiln.log"));
        }

        HttpResponse<String> send(String method, String path, String json, Map<String, String> headers) throws IOException, InterruptedException {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                    .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
            if (json != null) b.header("Content-Type", "application/json");
            headers.forEach(b::header);
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(Duration.ofSeconds(30))) process.destroyForcibly().waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

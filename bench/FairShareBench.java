import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fair share: one Kiln (sandbox, KILN_AUTH=on, default per-user caps); user "big" submits a
 * 1,000-job run of small sandbox-image jobs, then user "lone" submits one job, then "big" submits
 * one more job of its own. Measured on the server's clock (created_at → started_at): how long the
 * lone job waited to be dispatched, and its whole latency; the same for big's extra job, which
 * waits behind its own run (users take turns, a user's own jobs go by priority and age). After a
 * 100-job warm-up, --repeat rounds (default 3), each waiting for the whole run; medians.
 *   java bench/FairShareBench.java server/target/kiln.jar [--repeat N] [--latency 2s]
 */
public class FairShareBench {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    static final String SMALL = "\"params\":{\"width\":64,\"height\":64}";

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args.length > 0 ? args[0] : "server/target/kiln.jar");
        int repeat = 3;
        String latency = "2s";
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--repeat")) repeat = Integer.parseInt(args[++i]);
            else if (args[i].equals("--latency")) latency = args[++i];
        }
        List<double[]> rounds = new ArrayList<>();
        try (Kiln k = Kiln.start(jar, Map.of("KILN_AUTH", "on", "KILN_ADMIN_KEY", "bench-admin", "KILN_SANDBOX_LATENCY", latency,
                "KILN_START_CREDITS", "1000000", "KILN_MAX_RUN_JOBS", "1000"))) {
            Map<String, String> big = user(k, "big");
            Map<String, String> lone = user(k, "lone");
            String warm = field(k.send("POST", "/v1/runs", "{\"model\":\"sandbox-image\",\"prompt\":\"warm-up\",\"count\":100," + SMALL + "}", big).body(), "id");
            awaitRun(k, warm, big);
            for (int r = 0; r < repeat; r++) {
                HttpResponse<String> run = k.send("POST", "/v1/runs", "{\"model\":\"sandbox-image\",\"prompt\":\"backlog\",\"count\":1000," + SMALL + "}", big);
                if (run.statusCode() != 202) throw new IllegalStateException("run refused: " + run.body());
                String runId = field(run.body(), "id");
                String loneJob = submit(k, lone, "just one");
                String bigJob = submit(k, big, "one more of mine");
                double[] l = timings(k, loneJob, lone);
                double[] b = timings(k, bigJob, big);
                awaitRun(k, runId, big);
                rounds.add(new double[] {l[0], l[1], b[0], b[1]});
                System.out.printf(Locale.ROOT, "round %d: lone job dispatched after %.0f ms (done after %.0f ms); big's extra job after %.0f ms (%.0f ms)%n",
                        r + 1, l[0], l[1], b[0], b[1]);
            }
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "A lone job behind another user's 1,000-job run, sandbox latency %s, medians of %d rounds (%d cores)%n%n",
                latency, rounds.size(), Runtime.getRuntime().availableProcessors());
        System.out.println("| job | dispatched after (created_at → started_at) | finished after |");
        System.out.println("| --- | --- | --- |");
        System.out.printf(Locale.ROOT, "| another user's lone job | %.0f ms | %.0f ms |%n", median(rounds, 0), median(rounds, 1));
        System.out.printf(Locale.ROOT, "| the run's own user's next job | %.0f ms | %.0f ms |%n", median(rounds, 2), median(rounds, 3));
    }

    /** A user made by the admin, logged in: its Authorization header. */
    static Map<String, String> user(Kiln k, String name) throws Exception {
        Map<String, String> admin = Map.of("x-admin-key", "bench-admin");
        HttpResponse<String> made = k.send("POST", "/v1/admin/users", "{\"username\":\"" + name + "\",\"password\":\"bench-password\"}", admin);
        if (made.statusCode() != 201) throw new IllegalStateException("user not made: " + made.body());
        String login = k.send("POST", "/v1/auth/login", "{\"username\":\"" + name + "\",\"password\":\"bench-password\"}", Map.of()).body();
        return Map.of("Authorization", "Bearer " + field(login, "session_token"));
    }

    static String submit(Kiln k, Map<String, String> auth, String prompt) throws Exception {
        HttpResponse<String> a = k.send("POST", "/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"" + prompt + "\"," + SMALL + "}", auth);
        if (a.statusCode() != 202) throw new IllegalStateException("job refused: " + a.body());
        return field(a.body(), "id");
    }

    /** {ms from created_at to started_at, ms from created_at to finished_at} of a job, once it is done. */
    static double[] timings(Kiln k, String id, Map<String, String> auth) throws Exception {
        long deadline = System.nanoTime() + 600_000_000_000L;
        while (System.nanoTime() < deadline) {
            String job = k.send("GET", "/v1/jobs/" + id, null, auth).body();
            String status = field(job, "status");
            if (!status.equals("queued") && !status.equals("running")) {
                if (!status.equals("succeeded")) throw new IllegalStateException("job " + id + " " + status + ": " + job);
                Instant created = Instant.parse(field(job, "created_at"));
                return new double[] {Duration.between(created, Instant.parse(field(job, "started_at"))).toNanos() / 1e6,
                        Duration.between(created, Instant.parse(field(job, "finished_at"))).toNanos() / 1e6};
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("job " + id + " did not finish");
    }

    static void awaitRun(Kiln k, String runId, Map<String, String> auth) throws Exception {
        long deadline = System.nanoTime() + 900_000_000_000L;
        while (System.nanoTime() < deadline) {
            String run = k.send("GET", "/v1/runs?limit=5", null, auth).body();
            Matcher m = Pattern.compile("\"id\":\"" + runId + "\",[^}]*?\"status\":\"([a-z]+)\"").matcher(run);
            if (m.find() && !m.group(1).equals("running")) {
                if (!m.group(1).equals("succeeded")) throw new IllegalStateException("run " + runId + " ended " + m.group(1));
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("run " + runId + " did not finish");
    }

    static double median(List<double[]> rounds, int i) {
        double[] v = rounds.stream().mapToDouble(r -> r[i]).toArray();
        Arrays.sort(v);
        return v[v.length / 2];
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
            Path data = Files.createTempDirectory("kiln-fairshare");
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

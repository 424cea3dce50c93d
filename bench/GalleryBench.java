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
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long the web UI's library takes to render its first page (60 tiles, newest first) on the
 * server when the library holds many outputs. A sandbox Kiln (local mode, embedded H2, latency 0)
 * makes 10 real 64×64 outputs; stopped, its database gets {@code --assets N} more (default
 * 10,000) as copies of one of them (same files, distinct ids, prompts and times, one per minute
 * back), by SQL through the H2 driver in the jar; started again, {@code GET /library} is timed
 * (time to the last byte on loopback; thumbnails are separate requests and not counted):
 * unfiltered, with a prompt filter, with model and status filters, and a page from the middle.
 * Target: under 200 ms.
 */
public class GalleryBench {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args.length > 0 && !args[0].startsWith("--") ? args[0] : "server/target/kiln.jar");
        int assets = 10_000;
        int requests = 50;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--assets")) assets = Integer.parseInt(args[++i]);
            if (args[i].equals("--requests")) requests = Integer.parseInt(args[++i]);
        }
        Path data = Files.createTempDirectory("kiln-gallerybench");
        Map<String, String> env = Map.of("KILN_AUTH", "local", "KILN_SANDBOX_LATENCY", "0s");
        // 1. A real run makes real outputs (files, thumbnails, rows).
        try (Kiln k = Kiln.start(jar, data, env)) {
            String body = "{\"model\":\"sandbox-image\",\"prompts\":[\"bench lighthouse\"],\"count\":10,\"params\":{\"width\":64,\"height\":64}}";
            HttpResponse<String> r = k.send("POST", "/v1/runs", body);
            if (r.statusCode() != 202) throw new IllegalStateException("POST /v1/runs: " + r.statusCode() + " " + r.body());
            // The list view has no jobs: its first status is the run's.
            while (field(k.send("GET", "/v1/runs?limit=1", null).body(), "status").equals("running")) Thread.sleep(500);
        }
        // 2. Kiln stopped: the library grows to N outputs, copies of those rows (the same files),
        //    one per minute back in time, with distinct prompts, as SQL in the embedded database.
        long t0 = System.nanoTime();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:h2:file:" + data.resolve("kiln")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH", "sa", "");
             java.sql.Statement st = c.createStatement()) {
            String template;
            try (var rs = st.executeQuery("SELECT id FROM jobs WHERE status = 'succeeded' ORDER BY id LIMIT 1")) {
                rs.next();
                template = "'" + rs.getString(1) + "'";
            }
            String jobId = "'job_00bench' || LPAD(CAST(r.n AS VARCHAR), 8, '0')";
            String when = "DATEADD('MINUTE', -r.n, created_at)";
            List<String> jobCols = columns(c, "jobs");
            st.executeUpdate("INSERT INTO jobs (" + String.join(", ", jobCols) + ") SELECT "
                    + select(jobCols, Map.of("id", jobId, "webhook_token", "LEFT(webhook_token, 48) || LPAD(CAST(r.n AS VARCHAR), 16, '0')",
                            "prompt", "'bench lighthouse ' || r.n", "created_at", when))
                    + " FROM jobs CROSS JOIN SYSTEM_RANGE(1, " + assets + ") AS r(n) WHERE id = " + template);
            List<String> assetCols = columns(c, "assets");
            st.executeUpdate("INSERT INTO assets (" + String.join(", ", assetCols) + ") SELECT "
                    + select(assetCols, Map.of("id", "'ast_00bench' || LPAD(CAST(r.n AS VARCHAR), 8, '0')", "job_id", jobId, "created_at", when))
                    + " FROM assets CROSS JOIN SYSTEM_RANGE(1, " + assets + ") AS r(n) WHERE job_id = " + template);
            try (var rs = st.executeQuery("SELECT COUNT(*) FROM assets WHERE role = 'output'")) {
                rs.next();
                System.out.printf("library: %d outputs (%d added by SQL in %.1f s)%n", rs.getLong(1), assets, (System.nanoTime() - t0) / 1e9);
            }
        }
        // 3. Kiln again: time the library's first page.
        try (Kiln k = Kiln.start(jar, data, env)) {
            String first = k.send("GET", "/library", null).body();
            int tiles = count(first, "class=\"item\"");
            System.out.println("first page: " + tiles + " tiles, " + first.length() + " bytes of HTML");
            for (String path : List.of("/library", "/library?q=lighthouse+77", "/library?model=sandbox-image&status=succeeded",
                    "/library/page?after=ast_00bench00005000")) {
                for (int i = 0; i < 10; i++) k.send("GET", path, null);
                double[] ms = new double[requests];
                for (int i = 0; i < requests; i++) {
                    long s = System.nanoTime();
                    HttpResponse<String> r = k.send("GET", path, null);
                    ms[i] = (System.nanoTime() - s) / 1e6;
                    if (r.statusCode() != 200) throw new IllegalStateException(path + ": " + r.statusCode());
                }
                Arrays.sort(ms);
                System.out.printf("GET %-48s p50 %6.1f ms  p90 %6.1f ms  max %6.1f ms  (%d requests)%n", path, pct(ms, 50), pct(ms, 90),
                        ms[ms.length - 1], requests);
            }
        }
    }

    /** The table's columns as the database lists them. */
    static List<String> columns(java.sql.Connection c, String table) throws java.sql.SQLException {
        List<String> cols = new ArrayList<>();
        try (var rs = c.getMetaData().getColumns(null, null, table, null)) {
            while (rs.next()) cols.add(rs.getString("COLUMN_NAME"));
        }
        return cols;
    }

    /** The columns as a SELECT list, some replaced by expressions. */
    static String select(List<String> cols, Map<String, String> replaced) {
        return String.join(", ", cols.stream().map(col -> replaced.getOrDefault(col, col)).toList());
    }

    static int count(String s, String needle) {
        int c = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) c++;
        return c;
    }

    static double pct(double[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1)];
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]+)\"").matcher(json);
        if (!m.find()) throw new IllegalStateException("no " + name + " in " + json);
        return m.group(1);
    }

    record Kiln(Process process, String base, Path data) implements AutoCloseable {
        static Kiln start(Path jar, Path data, Map<String, String> env) throws Exception {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
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
            long deadline = System.nanoTime() + 600_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (!k.process.isAlive()) throw new IllegalStateException("Kiln exited; see " + data.resolve("kiln.log"));
                try {
                    if (k.send("GET", "/health", null).statusCode() == 200) return k;
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(200);
            }
            k.close();
            throw new IllegalStateException("Kiln did not start; see " + data.resolve("kiln.log"));
        }

        HttpResponse<String> send(String method, String path, String json) throws IOException, InterruptedException {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                    .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
            if (json != null) b.header("Content-Type", "application/json");
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

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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pod pool's two figures against the sandbox's RunPod pods emulator: the time from a queued
 * ComfyUI job to a ready pod (and to the job's end), and what a pod's idle time costs before the
 * pool stops it. Each round starts from no pod: one job is queued, the pool adds a pod once the job
 * has waited KILN_PODS_SCALE_UP_AFTER, the pod's ComfyUI answers after the emulator's start-up
 * delay (2 s; RunPod's own is 30–120 s, per Vibewave's README), the job runs, the pod idles for
 * KILN_PODS_IDLE_STOP_AFTER and is stopped, then terminated. The sandbox's own ComfyUI and RunPod
 * worker are disabled so that only pods can run the job.
 *   java bench/PodsBench.java server/target/kiln.jar [rounds]
 */
public class PodsBench {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    static final String SCALE_UP_AFTER = "2s";
    static final String IDLE_STOP_AFTER = "10s";
    static final String INTERVAL = "500ms";

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args.length > 0 ? args[0] : "server/target/kiln.jar");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        List<double[]> rows = new ArrayList<>();
        try (Kiln k = Kiln.start(jar, Map.of("KILN_PODS", "on", "KILN_PODS_SCALE_UP_AFTER", SCALE_UP_AFTER, "KILN_PODS_IDLE_STOP_AFTER",
                IDLE_STOP_AFTER, "KILN_PODS_TERMINATE_AFTER", "1s", "KILN_PODS_INTERVAL", INTERVAL, "KILN_PODS_GPU_TYPES",
                "NVIDIA GeForce RTX 4090", "KILN_SANDBOX", "auto", "KILN_SANDBOX_LATENCY", "1s"))) {
            String accounts = k.send("GET", "/v1/admin/accounts", null).body();
            Matcher m = Pattern.compile("\"id\":\"(acct_[^\"]+)\",\"provider\":\"(comfyui|runpod)\",\"label\":\"sandbox\"").matcher(accounts);
            while (m.find()) k.send("POST", "/v1/admin/accounts/" + m.group(1) + "/disable", null);
            for (int r = 0; r < rounds; r++) rows.add(round(k, r));
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "Pod pool against the sandbox's RunPod pods emulator (start-up delay 2 s, prompt 1 s), KILN_PODS_SCALE_UP_AFTER=%s, "
                + "KILN_PODS_INTERVAL=%s, KILN_PODS_IDLE_STOP_AFTER=%s, RTX 4090 at $0.69/h; %d rounds (%s, %d cores)%n%n", SCALE_UP_AFTER, INTERVAL,
                IDLE_STOP_AFTER, rounds, System.getProperty("os.name"), Runtime.getRuntime().availableProcessors());
        System.out.println("| round | queued → pod created s | queued → pod ready s | queued → job done s | idle before stop s | idle cost $ |");
        System.out.println("| --- | --- | --- | --- | --- | --- |");
        for (int i = 0; i < rows.size(); i++) {
            double[] x = rows.get(i);
            System.out.printf(Locale.ROOT, "| %d | %.2f | %.2f | %.2f | %.2f | %.5f |%n", i + 1, x[0], x[1], x[2], x[3], x[4]);
        }
        double idlePerHour = 0.69;
        System.out.printf(Locale.ROOT, "%nAt the defaults (KILN_PODS_IDLE_STOP_AFTER=10m) one idle stop costs 10/60 h × $%.2f/h = $%.3f per pod%n",
                idlePerHour, idlePerHour / 6);
    }

    /** One round from no pod: [created, ready, done, idle seconds, idle cost] in seconds after the job was queued. */
    static double[] round(Kiln k, int r) throws Exception {
        Instant queued = Instant.now();
        String job = field(k.send("POST", "/v1/jobs", "{\"model\":\"comfyui-workflow\",\"params\":{\"workflow\":" + workflow("bench round " + r + " " + queued)
                + "}}").body(), "id");
        long deadline = System.nanoTime() + 300_000_000_000L;
        double done = -1;
        while (System.nanoTime() < deadline) {
            String j = k.send("GET", "/v1/jobs/" + job, null).body();
            String status = field(j, "status");
            if (List.of("succeeded", "failed", "canceled", "timed_out").contains(status)) {
                if (!status.equals("succeeded")) throw new IllegalStateException("job " + job + " " + status + ": " + j);
                done = Duration.between(queued, Instant.now()).toMillis() / 1000.0;
                break;
            }
            Thread.sleep(50);
        }
        // Wait until the pod was stopped and terminated, then read the decisions of this round's pod.
        String pod = null;
        while (System.nanoTime() < deadline) {
            String pool = k.send("GET", "/v1/admin/pods", null).body();
            if (pool.contains("\"running_pods\":0") && pool.contains("\"action\":\"terminate\"")) {
                Matcher created = Pattern.compile("\"at\":\"([^\"]+)\",\"action\":\"scale_up\",\"pod_id\":\"([^\"]+)\"").matcher(pool);
                if (created.find()) {
                    pod = created.group(2);
                    Instant createdAt = Instant.parse(created.group(1));
                    Matcher ready = Pattern.compile("\"at\":\"([^\"]+)\",\"action\":\"ready\",\"pod_id\":\"" + pod + "\"").matcher(pool);
                    Matcher stopped = Pattern.compile("\"action\":\"terminate\",\"pod_id\":\"" + pod + "\"").matcher(pool);
                    if (ready.find() && stopped.find()) {
                        Instant readyAt = Instant.parse(ready.group(1));
                        Matcher idle = Pattern.compile("\\{\"id\":\"" + pod + "\"[^}]*\"cost_per_hr\":([0-9.]+)[^}]*\"idle_seconds\":([0-9.]+)").matcher(pool);
                        double idleSeconds = 0, cost = 0;
                        if (idle.find()) {
                            cost = Double.parseDouble(idle.group(1));
                            idleSeconds = Double.parseDouble(idle.group(2));
                        }
                        return new double[] {Duration.between(queued, createdAt).toMillis() / 1000.0, Duration.between(queued, readyAt).toMillis() / 1000.0,
                                done, idleSeconds, idleSeconds / 3600 * cost};
                    }
                }
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("round " + r + " did not end; pod " + pod);
    }

    static String workflow(String text) {
        return """
                {"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"ponyDiffusionV6XL_v6StartWithThisOne.safetensors"}},
                 "6":{"class_type":"CLIPTextEncode","inputs":{"text":"%s","clip":["4",1]}},
                 "5":{"class_type":"EmptyLatentImage","inputs":{"width":64,"height":64,"batch_size":1}},
                 "3":{"class_type":"KSampler","inputs":{"seed":3,"steps":2,"cfg":6,"sampler_name":"euler","scheduler":"normal","denoise":1,
                      "model":["4",0],"positive":["6",0],"negative":["6",0],"latent_image":["5",0]}},
                 "8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},
                 "9":{"class_type":"SaveImage","inputs":{"filename_prefix":"bench","images":["8",0]}}}""".formatted(text);
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
            Path data = Files.createTempDirectory("kiln-podsbench");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            for (String o : System.getenv().getOrDefault("KILN_JAVA_OPTS", "-Xmx1g").trim().split("\\s+")) if (!o.isBlank()) cmd.add(o);
            cmd.addAll(List.of("-jar", jar.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolve("kiln.log").toFile()));
            pb.environment().keySet().removeIf(k -> k.startsWith("KILN_") || k.startsWith("RUNPOD_") || k.endsWith("_API_KEY")
                    || k.endsWith("_API_TOKEN") || k.equals("FAL_KEY") || k.equals("COMFYUI_URL") || k.equals("PUBLIC_BASE_URL"));
            pb.environment().put("PORT", Integer.toString(port));
            pb.environment().put("KILN_DATA_DIR", data.toString());
            pb.environment().putAll(env);
            Kiln k = new Kiln(pb.start(), "http://127.0.0.1:" + port, data);
            long deadline = System.nanoTime() + 120_000_000_000L;
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

package dev.kiln.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import dev.kiln.testing.S3Server;
import dev.kiln.testing.TestDatabases;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Several Kiln processes and one store: two instances on PostgreSQL with KILN_STORAGE=s3 serve
 * each other's outputs (and one keeps serving when the other is killed); an outage of the bucket
 * during a run makes jobs wait and store later, none succeeding without its file; instances with
 * KILN_STORAGE=local and different folders refuse to share a database.
 */
class StorageClusterTest {
    static final String BUCKET = "kiln-cluster";
    static final Duration START = Duration.ofSeconds(90);
    @TempDir Path dir;
    private final List<AutoCloseable> started = new ArrayList<>();
    private String schema;
    private static final String SECRET_KEY = "4VpUFk4w7QKVaAwGVnLL2jQCWE3nCKR/Q9SsSCVkJRs=";

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : started.reversed()) c.close();
        if (schema != null) TestDatabases.dropPgSchema(schema);
    }

    private Map<String, String> postgres() {
        if (schema == null) schema = TestDatabases.newPgSchema();
        return Map.of("KILN_DB_URL", TestDatabases.pgUrl(schema), "KILN_DB_USER", TestDatabases.PG_USER, "KILN_DB_PASSWORD", "");
    }

    private KilnProcess kiln(String name, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(extra);
        env.put("KILN_DATA_DIR", dir.resolve(name).toString());
        env.put("KILN_SANDBOX", "on");
        env.put("KILN_SANDBOX_LATENCY", "1s");
        env.put("KILN_LEASE", "5s");
        // Instances sharing a database share the key of its sealed secrets (README, KILN_SECRET_KEY).
        env.put("KILN_SECRET_KEY", SECRET_KEY);
        KilnProcess k = KilnProcess.start(KilnProcess.freePort(), env, dir.resolve(name + ".log"), START);
        started.add(k);
        return k;
    }

    private static String run(KilnProcess k, int jobs) {
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < jobs; i++) prompts.add("storage " + System.nanoTime() + " #" + i);
        ObjectNode body = Json.object().put("model", "sandbox-image");
        body.set("params", Json.object().put("width", 320).put("height", 192));
        body.set("prompts", Json.MAPPER.valueToTree(prompts));
        Http.Answer a = k.http.post("/v1/runs", Json.write(body));
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        return a.json().get("id").asString();
    }

    private static List<JsonNode> jobs(KilnProcess k, String runId) {
        List<JsonNode> out = new ArrayList<>();
        k.http.get("/v1/runs/" + runId).json().path("jobs").forEach(out::add);
        return out;
    }

    private static List<JsonNode> await(KilnProcess k, String runId, Duration max, Predicate<List<JsonNode>> done) {
        long deadline = System.nanoTime() + max.toNanos();
        List<JsonNode> jobs = jobs(k, runId);
        while (!done.test(jobs)) {
            assertThat(System.nanoTime()).as("run %s: %s", runId, jobs).isLessThan(deadline);
            KilnProcess.sleep(250);
            jobs = jobs(k, runId);
        }
        return jobs;
    }

    private static long count(List<JsonNode> jobs, String status) {
        return jobs.stream().filter(j -> j.path("status").asString().equals(status)).count();
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void twoInstancesOnPostgresServeWhatTheOtherStoredInTheBucket() throws Exception {
        S3Server s3 = S3Server.start(dir.resolve("s3"), BUCKET);
        started.add(s3);
        Map<String, String> env = new HashMap<>(postgres());
        env.putAll(s3.env(BUCKET));
        env.put("KILN_S3_PREFIX", "cluster/");
        KilnProcess a = kiln("a", env);
        String runId = run(a, 4);
        List<JsonNode> jobs = await(a, runId, Duration.ofSeconds(60), js -> count(js, "succeeded") == 4);
        // B starts only now: two sandboxes on one database would each re-register the shared
        // sandbox accounts with their own emulator (the sandbox is for one instance at a time).
        Map<String, String> presigning = new HashMap<>(env);
        presigning.put("KILN_S3_PRESIGN", "true");
        KilnProcess b = kiln("b", presigning);
        List<String[]> files = new ArrayList<>();
        for (JsonNode j : jobs) {
            for (JsonNode o : j.path("outputs")) {
                files.add(new String[] {o.path("url").asString(), o.path("sha256").asString()});
                files.add(new String[] {o.path("thumbnail_url").asString(), null});
            }
        }
        assertThat(files).hasSize(8);
        a.kill(); // B serves without A
        HttpClient http = HttpClient.newHttpClient();
        for (String[] f : files) {
            Http.Answer redirect = b.http.get(f[0]);
            assertThat(redirect.status()).as("%s on B", f[0]).isEqualTo(302);
            String location = redirect.header("Location");
            assertThat(location).startsWith(s3.endpoint() + "/" + BUCKET + "/cluster/assets/");
            HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(URI.create(location)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(got.statusCode()).isEqualTo(200);
            if (f[1] != null) assertThat(sha256(got.body())).isEqualTo(f[1]);
            else assertThat(got.headers().firstValue("Content-Type")).hasValue("image/jpeg");
        }

        // Streamed through an instance that does not presign, with ranges, on the same bucket and database.
        KilnProcess c = kiln("c", env);
        Http.Answer whole = c.http.get(files.getFirst()[0]);
        assertThat(whole.status()).isEqualTo(200);
        assertThat(sha256(whole.body())).isEqualTo(files.getFirst()[1]);
        Http.Answer part = c.http.send(HttpRequest.newBuilder(c.http.uri(files.getFirst()[0])).header("Range", "bytes=1-3").build());
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.body()).containsExactly(whole.body()[1], whole.body()[2], whole.body()[3]);
    }

    @Test
    void whileTheBucketIsDownJobsWaitAndNoneSucceedsWithoutItsFile() throws Exception {
        S3Server s3 = S3Server.start(dir.resolve("s3"), BUCKET);
        started.add(s3);
        KilnProcess k = kiln("k", s3.env(BUCKET));

        s3.stop();
        String runId = run(k, 6);
        List<JsonNode> waiting = await(k, runId, Duration.ofSeconds(45), js -> js.stream()
                .filter(j -> j.path("error").path("code").asString("").equals("storage_unavailable")).count() >= 3);
        assertThat(count(waiting, "succeeded")).as("nothing succeeds while the bucket is down").isZero();
        KilnProcess.sleep(3000);
        assertThat(count(jobs(k, runId), "succeeded")).isZero();
        assertThat(count(jobs(k, runId), "failed")).isZero();

        s3.start();
        List<JsonNode> jobs = await(k, runId, Duration.ofSeconds(90), js -> count(js, "succeeded") == 6);
        for (JsonNode j : jobs) {
            JsonNode o = j.path("outputs").get(0);
            Http.Answer file = k.http.get(o.path("url").asString());
            assertThat(file.status()).isEqualTo(200);
            assertThat(sha256(file.body())).isEqualTo(o.path("sha256").asString());
        }
    }

    @Test
    void localInstancesOnOneDatabaseMustShareTheirFolder() {
        Map<String, String> env = postgres();
        kiln("shared", env);
        assertThatThrownBy(() -> kiln("other", env))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Kiln exited")
                .hasMessageContaining("the assets of this database are kept in another folder")
                .hasMessageContaining("Give every instance that shares the database the same KILN_DATA_DIR");
        kiln("shared", env); // the same folder: welcome
    }
}

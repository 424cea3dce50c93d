package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Every route that names a run, job, asset or event stream, asked by a stranger: 404, exactly as
 * for an id that does not exist, and lists and streams show only the caller's own. An admin sees
 * everything.
 */
class IsolationTest extends OnModeTest {
    private static final String SMALL = "\"params\":{\"width\":64,\"height\":64}";
    User alice;
    User bob;
    String aliceRun;
    String aliceJob;
    String aliceOutput;
    String aliceUpload;

    @BeforeEach
    void aliceHasARunAJobAndAssets() throws Exception {
        alice = newUser();
        bob = newUser();
        Http.Answer run = alice.bearer().post("/v1/runs", "{\"model\":\"sandbox-image\",\"prompts\":[\"a\",\"b\"]," + SMALL + "}");
        assertThat(run.status()).as(run.toString()).isEqualTo(202);
        aliceRun = run.json().get("id").asString();
        aliceJob = submit(alice.bearer(), "{\"model\":\"sandbox-image\",\"prompt\":\"mine\"," + SMALL + "}");
        JsonNode done = awaitJob(alice.bearer(), aliceJob, Duration.ofSeconds(30));
        assertThat(done.get("status").asString()).isEqualTo("succeeded");
        aliceOutput = done.get("outputs").get(0).get("asset_id").asString();
        Http.Answer up = alice.bearer().send(multipart(alice.bearer(), ApiFlowTest.png(20, 20)));
        assertThat(up.status()).as(up.toString()).isEqualTo(201);
        aliceUpload = up.json().get("id").asString();
        awaitRun(alice.bearer(), aliceRun, Duration.ofSeconds(30));
    }

    @Test
    void aStrangersJobsRunsAndAssetsAnswer404LikeMissingOnes() {
        Http b = bob.bearer();
        Map<String, Http.Answer> answers = new java.util.LinkedHashMap<>();
        answers.put("GET job", b.get("/v1/jobs/" + aliceJob));
        answers.put("GET job history", b.get("/v1/jobs/" + aliceJob + "/history"));
        answers.put("cancel job", b.post("/v1/jobs/" + aliceJob + "/cancel", null));
        answers.put("DELETE job", b.delete("/v1/jobs/" + aliceJob));
        answers.put("GET run", b.get("/v1/runs/" + aliceRun));
        answers.put("cancel run", b.post("/v1/runs/" + aliceRun + "/cancel", null));
        answers.put("GET output", b.get("/v1/assets/" + aliceOutput));
        answers.put("GET output thumbnail", b.get("/v1/assets/" + aliceOutput + "/thumbnail"));
        answers.put("GET upload", b.get("/v1/assets/" + aliceUpload));
        answers.put("GET events of run", b.get("/v1/events?run=" + aliceRun, Map.of("Accept", "text/event-stream")));
        answers.put("GET events of job", b.get("/v1/events?job=" + aliceJob, Map.of("Accept", "text/event-stream")));
        Http.Answer missing = b.get("/v1/jobs/job_01aaaaaaaaaaaaaaaaaaaaaaaa");
        assertThat(missing.status()).isEqualTo(404);
        answers.forEach((route, a) -> {
            assertThat(a.status()).as(route + ": " + a).isEqualTo(404);
            assertThat(a.json().get("code").asString()).as(route).isEqualTo("not_found");
        });
        // Nothing changed for alice.
        assertThat(alice.bearer().get("/v1/jobs/" + aliceJob).json().get("status").asString()).isEqualTo("succeeded");
        Http.Answer output = alice.bearer().get("/v1/assets/" + aliceOutput);
        assertThat(output.status()).isEqualTo(200);
        // The security chain leaves the asset's own caching alone (bytes under a hash never change).
        assertThat(output.header("Cache-Control")).contains("immutable");
        assertThat(alice.bearer().get("/v1/assets/" + aliceOutput + "/thumbnail").status()).isEqualTo(200);
        assertThat(alice.bearer().get("/v1/assets/" + aliceUpload).status()).isEqualTo(200);
    }

    @Test
    void aStrangersAssetCannotBeUsedAsAnInput() {
        Http.Answer a = bob.bearer().post("/v1/jobs", "{\"model\":\"sandbox-image\",\"prompt\":\"steal\",\"images\":{\"reference\":[\"asset:"
                + aliceUpload + "\"]}," + SMALL + "}");
        assertThat(a.status()).as(a.toString()).isEqualTo(422);
        assertThat(a.json().get("errors").get(0).get("field").asString()).startsWith("images.reference");
        assertThat(a.text()).doesNotContain(alice.id());
    }

    @Test
    void listsAndTheirPagesHoldOnlyTheCallersOwn() {
        String bobJob = submit(bob.bearer(), "{\"model\":\"sandbox-image\",\"prompt\":\"bobs\"," + SMALL + "}");
        // Bob follows the pages one item at a time: only his job, whatever cursor he is given.
        Set<String> seen = new HashSet<>();
        String cursor = null;
        do {
            JsonNode page = bob.bearer().get("/v1/jobs?limit=1" + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.get("items").forEach(j -> seen.add(j.get("id").asString()));
            cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asString();
        } while (cursor != null);
        assertThat(seen).containsExactly(bobJob);
        // Alice's run as a filter, and a cursor made from her newest job, show bob nothing of hers.
        assertThat(bob.bearer().get("/v1/jobs?run=" + aliceRun).json().get("items")).isEmpty();
        String aliceCursor = Base64.getUrlEncoder().withoutPadding().encodeToString("job_7zzzzzzzzzzzzzzzzzzzzzzzzz".getBytes(StandardCharsets.UTF_8));
        assertThat(bob.bearer().get("/v1/jobs?cursor=" + aliceCursor).json().get("items").findValuesAsString("id")).containsExactly(bobJob);
        assertThat(bob.bearer().get("/v1/runs").json().get("items")).isEmpty();
        assertThat(bob.bearer().get("/v1/runs?limit=1&cursor=" + aliceCursor).json().get("items")).isEmpty();

        // Alice pages through her own three jobs.
        List<String> hers = new ArrayList<>();
        cursor = null;
        do {
            JsonNode page = alice.bearer().get("/v1/jobs?limit=2" + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.get("items").forEach(j -> hers.add(j.get("id").asString()));
            cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asString();
        } while (cursor != null);
        assertThat(hers).hasSize(3).contains(aliceJob).doesNotContain(bobJob);
        assertThat(alice.bearer().get("/v1/runs").json().get("items").findValuesAsString("id")).containsExactly(aliceRun);
    }

    @Test
    void anAdminSeesEveryonesWork() {
        assertThat(admin.get("/v1/jobs/" + aliceJob).status()).isEqualTo(200);
        assertThat(admin.get("/v1/runs/" + aliceRun).status()).isEqualTo(200);
        assertThat(admin.get("/v1/assets/" + aliceOutput).status()).isEqualTo(200);
        assertThat(admin.get("/v1/assets/" + aliceUpload).status()).isEqualTo(200);
        assertThat(admin.get("/v1/jobs?run=" + aliceRun).json().get("items")).hasSize(2);
        assertThat(admin.get("/v1/runs?limit=200").json().get("items").findValuesAsString("id")).contains(aliceRun);
    }

    @Test
    void idempotencyKeysBelongToTheirOwner() {
        String body = "{\"model\":\"sandbox-image\",\"prompt\":\"same key\"," + SMALL + "}";
        Http.Answer a = alice.bearer().post("/v1/jobs", body, Map.of("Idempotency-Key", "shared-key"));
        Http.Answer b = bob.bearer().post("/v1/jobs", body, Map.of("Idempotency-Key", "shared-key"));
        assertThat(a.status()).isEqualTo(202);
        assertThat(b.status()).isEqualTo(202);
        assertThat(b.header("Idempotent-Replayed")).isNull();
        assertThat(b.json().get("id").asString()).isNotEqualTo(a.json().get("id").asString());
    }

    @Test
    void theEventStreamCarriesOnlyTheCallersOwnJobs() throws Exception {
        List<String> bobSaw = new CopyOnWriteArrayList<>();
        List<String> aliceSaw = new CopyOnWriteArrayList<>();
        Thread bobReader = stream(bob, "/v1/events", bobSaw);
        Thread aliceReader = stream(alice, "/v1/events", aliceSaw);
        Thread.sleep(300);
        String mine = submit(alice.bearer(), "{\"model\":\"sandbox-image\",\"prompt\":\"streamed\"," + SMALL + "}");
        String his = submit(bob.bearer(), "{\"model\":\"sandbox-image\",\"prompt\":\"his\"," + SMALL + "}");
        awaitJob(alice.bearer(), mine, Duration.ofSeconds(30));
        awaitJob(bob.bearer(), his, Duration.ofSeconds(30));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> aliceSaw.contains(mine + ":succeeded") && bobSaw.contains(his + ":succeeded"));
        bobReader.interrupt();
        aliceReader.interrupt();
        assertThat(bobSaw).allMatch(e -> e.startsWith(his + ":"));
        assertThat(aliceSaw).allMatch(e -> e.startsWith(mine + ":"));
    }

    private Thread stream(User u, String path, List<String> saw) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(anon.uri(path)).header("Accept", "text/event-stream")
                .header("Authorization", "Bearer " + u.token()).GET().build();
        HttpResponse<InputStream> res = anon.client().send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(res.statusCode()).isEqualTo(200);
        Thread t = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
                String line;
                while (!Thread.currentThread().isInterrupted() && (line = r.readLine()) != null) {
                    if (!line.startsWith("data:")) continue;
                    JsonNode j = Json.parse(line.substring(5).trim());
                    saw.add(j.get("id").asString() + ":" + j.get("status").asString());
                }
            } catch (java.io.IOException e) {
                // closed
            }
        });
        return t;
    }

    static HttpRequest multipart(Http as, byte[] png) {
        String boundary = "kiln-test-boundary";
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + png.length + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        System.arraycopy(png, 0, body, head.length, png.length);
        System.arraycopy(tail, 0, body, head.length + png.length, tail.length);
        return HttpRequest.newBuilder(as.uri("/v1/assets")).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }
}

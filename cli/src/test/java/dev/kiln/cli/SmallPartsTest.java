package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File names, event framing, error printing, job state and exit codes. */
class SmallPartsTest {

    @Test
    void fileNamesNumberSlugAndSeed() {
        Wire.Job j = ManifestTest.job("job_1", "succeeded", "Crème brûlée, on a PLATE!!  (4k)", 42, null, null);
        assertThat(FileNames.of(7, 120, j, 0, 1, "image/png")).isEqualTo("0007_creme-brulee-on-a-plate-4k_s42.png");
        assertThat(FileNames.of(7, 12_000, j, 1, 2, "image/jpeg; q=1")).isEqualTo("00007_creme-brulee-on-a-plate-4k_s42_2.jpg");
        assertThat(FileNames.slug("собака в шляпе")).isEqualTo("собака-в-шляпе");
        assertThat(FileNames.slug("!!!")).isEqualTo("output");
        assertThat(FileNames.slug("a very long prompt about many things that goes on and on")).isEqualTo("a-very-long-prompt-about-many-things");
        assertThat(FileNames.extension("video/mp4")).isEqualTo("mp4");
        assertThat(FileNames.extension("application/x-weird+zip")).isEqualTo("bin");
        assertThat(FileNames.extension(null)).isEqualTo("bin");
    }

    @Test
    void sseFramesEventsAsTheStandardSays() {
        SseParser p = new SseParser();
        List<SseParser.Event> got = new ArrayList<>();
        for (String line : List.of(":connected", "", "event: job", "id: job_1:3", "data: {\"a\":", "data:1}", "", "data: plain", "", "retry: 10", "")) {
            SseParser.Event e = p.line(line);
            if (e != null) got.add(e);
        }
        assertThat(got).containsExactly(new SseParser.Event("job", "job_1:3", "{\"a\":\n1}"), new SseParser.Event("message", "job_1:3", "plain"));
    }

    @Test
    void problemsPrintTheirFields() {
        byte[] body = """
                {"type": "https://kiln.dev/problems/validation-failed", "title": "Validation failed", "status": 422,
                 "detail": "2 fields are invalid", "code": "validation_failed",
                 "errors": [{"field": "params.steps", "message": "must be at most 50, got 80"}, {"field": "model", "message": "unknown model 'x'"}]}
                """.getBytes(StandardCharsets.UTF_8);
        Problem p = Api.problem(422, Optional.of("application/problem+json"), body);
        assertThat(p.describe()).isEqualTo("""
                validation_failed (422): 2 fields are invalid
                  params.steps: must be at most 50, got 80
                  model: unknown model 'x'""");
        Problem busy = Api.problem(503, Optional.of("application/problem+json"),
                "{\"status\":503,\"code\":\"queue_overloaded\",\"detail\":\"the queue is full\",\"user_action\":\"Retry later.\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(busy.describe()).isEqualTo("queue_overloaded (503): the queue is full\n  Retry later.");
        Problem one = new Problem(null, null, 422, "images.reference: needs 1 image", "validation_failed",
                List.of(new Problem.FieldError("images.reference", "needs 1 image")), null);
        assertThat(one.describe()).isEqualTo("validation_failed (422)\n  images.reference: needs 1 image");
        Problem html = Api.problem(502, Optional.of("text/html"), "<h1>Bad Gateway</h1>".getBytes(StandardCharsets.UTF_8));
        assertThat(html.describe()).isEqualTo("http_502 (502): HTTP 502 (text/html): <h1>Bad Gateway</h1>");
    }

    @Test
    void theServerRunLimitIsReadFromItsRefusal() {
        Problem p = new Problem(null, null, 422, "1 field is invalid", "validation_failed", List.of(new Problem.FieldError("prompts",
                "this run expands to 12 jobs (prompts × count × grid); at most 8 are allowed (KILN_MAX_RUN_JOBS)")), null);
        assertThat(BatchCommand.serverLimit(new CliException.Refused("POST /v1/runs", 422, p))).isEqualTo(8);
        Problem other = new Problem(null, null, 422, "x", "validation_failed", List.of(new Problem.FieldError("model", "unknown")), null);
        assertThat(BatchCommand.serverLimit(new CliException.Refused("POST /v1/runs", 422, other))).isNull();
    }

    @Test
    void aFinishedJobStaysFinishedAndSucceedsOnce() {
        List<String> succeeded = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        Tracker t = new Tracker(new Tracker.Listener() {
            @Override
            public void changed(Wire.Job job, int position) {
                changes.add(job.id() + ":" + job.status());
            }

            @Override
            public void succeeded(Wire.Job job, int position) {
                succeeded.add(job.id() + "@" + position);
            }
        });
        Wire.Job queued = ManifestTest.job("job_2", "queued", "p", 1, null, null);
        Wire.Run run = new Wire.Run("run_1", "m", "txt2img", "running", 2, null,
                List.of(ManifestTest.job("job_1", "queued", "p", 1, null, null), queued), null, null, null, 0);
        t.run(run);
        assertThat(t.counts()).isEqualTo(new Tracker.Counts(2, 2, 0, 0, 0, 0, 0));
        t.apply(ManifestTest.job("job_2", "succeeded", "p", 1, null, null));
        t.apply(queued);
        t.apply(ManifestTest.job("job_2", "succeeded", "p", 1, null, null));
        t.apply(ManifestTest.job("job_9", "failed", "other run", 1, "x", "y"));
        t.run(run);
        assertThat(succeeded).containsExactly("job_2@2");
        assertThat(t.counts()).isEqualTo(new Tracker.Counts(2, 1, 0, 1, 0, 0, 0));
        assertThat(t.allFinished()).isFalse();
        t.apply(ManifestTest.job("job_1", "timed_out", "p", 1, "timed_out", "deadline"));
        assertThat(t.allFinished()).isTrue();
        assertThat(t.counts().unsuccessful()).isEqualTo(1);
        assertThat(changes).containsExactly("job_1:queued", "job_2:queued", "job_2:succeeded", "job_1:timed_out");
    }

    @Test
    void exitCodesSayHowItEnded() {
        assertThat(Exit.of(10, 10, true)).isEqualTo(Exit.OK);
        assertThat(Exit.of(10, 10, false)).isEqualTo(Exit.PARTIAL);
        assertThat(Exit.of(3, 10, true)).isEqualTo(Exit.PARTIAL);
        assertThat(Exit.of(0, 10, true)).isEqualTo(Exit.FAILED);
        Wire.Run ok = new Wire.Run("run_1", "m", "txt2img", "succeeded", 2, java.util.Map.of("succeeded", 2), null, null, null, null, 1);
        Wire.Run failed = new Wire.Run("run_2", "m", "txt2img", "failed", 1, java.util.Map.of("failed", 1), null, null, null, null, 1);
        Wire.Run running = new Wire.Run("run_3", "m", "txt2img", "running", 1, java.util.Map.of("queued", 1), null, null, null, null, 1);
        assertThat(StatusCommand.code(List.of(ok))).isEqualTo(Exit.OK);
        assertThat(StatusCommand.code(List.of(failed))).isEqualTo(Exit.FAILED);
        assertThat(StatusCommand.code(List.of(ok, failed))).isEqualTo(Exit.PARTIAL);
        assertThat(StatusCommand.code(List.of(ok, running))).isEqualTo(Exit.RUNNING);
    }

    @Test
    void anExistingFileCountsOnlyWithTheRightSizeAndHash(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.png");
        Files.writeString(f, "hello");
        String sha = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest("hello".getBytes(StandardCharsets.UTF_8)));
        assertThat(Downloader.matches(f, new Wire.Output("ast_1", "/v1/assets/ast_1", "image/png", 1, 1, 5, sha))).isTrue();
        assertThat(Downloader.matches(f, new Wire.Output("ast_1", "/v1/assets/ast_1", "image/png", 1, 1, 5, sha.replace('a', 'b')))).isFalse();
        assertThat(Downloader.matches(f, new Wire.Output("ast_1", "/v1/assets/ast_1", "image/png", 1, 1, 6, sha))).isFalse();
        assertThat(Downloader.matches(dir.resolve("missing.png"), new Wire.Output("ast_1", "/v1/assets/ast_1", "image/png", 1, 1, 5, sha))).isFalse();
    }

    @Test
    void tablesPadColumnsAndShortenTheFlexibleOne() {
        String t = new Table(2, "ID", "STATUS", "PROMPT").row("job_1", "succeeded", "a red fox at dawn over the hills").row("job_22", "failed", null)
                .render(40);
        assertThat(t).isEqualTo("""
                ID      STATUS     PROMPT
                job_1   succeeded  a red fox at dawn ov…
                job_22  failed
                """);
    }

    @Test
    void usageErrorsExitWithTwoAndNameTheProblem() {
        java.io.StringWriter err = new java.io.StringWriter();
        int code = KilnCli.run(new String[] {"batch", "prompts.txt"}, new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err));
        assertThat(code).isEqualTo(Exit.USAGE);
        assertThat(err.toString()).contains("--model is required");
        err.getBuffer().setLength(0);
        code = KilnCli.run(new String[] {"batch", "--count", "x"}, new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err));
        assertThat(code).isEqualTo(Exit.USAGE);
        assertThat(err.toString()).contains("Invalid value for option '--count'");
    }
}

package dev.kiln.emulator.wavespeed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.emulator.testing.Http;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A journal that cannot be read or written costs the sandbox its memory of tasks, never its later jobs. */
class WaveSpeedJournalFaultTest {
    private static final WaveSpeedEmulator.Config CONFIG = WaveSpeedEmulator.Config.defaults().withApiKey("k");

    private static String submit(WaveSpeedEmulator e, String prompt) {
        Http.Answer a = new Http(e.baseUrl()).post("/api/v3/kiln/sandbox-image", "{\"prompt\":\"" + prompt + "\",\"size\":\"16*16\"}",
                Map.of("Authorization", "Bearer k"));
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a.json().path("data").path("id").asString();
    }

    @Test
    void aLineThatIsNotATaskIsSkippedAndTheOthersAreServed(@TempDir Path dir) throws Exception {
        Path journal = dir.resolve("wavespeed.jsonl");
        String kept;
        try (WaveSpeedEmulator first = WaveSpeedEmulator.start(CONFIG, journal)) {
            kept = submit(first, "kept");
        }
        // Valid JSON that is no task: a hand edit, or a line from another version.
        Files.writeString(journal, "{\"id\":\"x\",\"model\":\"m\",\"input\":\"not an object\"}\n"
                + "{\"id\":\"y\",\"model\":\"m\",\"input\":{},\"spec\":{\"width\":0},\"created\":1}\n", StandardOpenOption.APPEND);

        try (WaveSpeedEmulator second = WaveSpeedEmulator.start(CONFIG, journal)) {
            assertThat(second.status(kept)).isEqualTo("completed");
            assertThat(second.status("x")).isNull();
            assertThat(second.status(submit(second, "after"))).isEqualTo("completed");
        }
    }

    @Test
    void aJournalThatCannotBeReadLeavesTheEmulatorWorking(@TempDir Path dir) throws Exception {
        Path journal = dir.resolve("wavespeed.jsonl");
        Files.createDirectories(journal); // a directory where the file should be: unreadable, unwritable, even for root

        try (WaveSpeedEmulator e = WaveSpeedEmulator.start(CONFIG, journal)) {
            String id = submit(e, "no memory");
            assertThat(e.status(id)).isEqualTo("completed");
        }
    }

    @Test
    void aFailedWriteNeverFailsASubmitAndTheJournalWorksAgainWhenTheFileDoes(@TempDir Path dir) throws Exception {
        Path journal = dir.resolve("wavespeed.jsonl");
        String during, after;
        try (WaveSpeedEmulator e = WaveSpeedEmulator.start(CONFIG, journal)) {
            submit(e, "before");
            Files.delete(journal);
            Files.createDirectories(journal);

            during = submit(e, "during");
            assertThat(e.status(during)).isEqualTo("completed");
            assertThat(e.journalFailing()).isTrue();

            Files.delete(journal);
            after = submit(e, "after");
            assertThat(e.journalFailing()).isFalse();
        }
        try (WaveSpeedEmulator again = WaveSpeedEmulator.start(CONFIG, journal)) {
            assertThat(again.status(after)).as("journaled once the file worked again").isEqualTo("completed");
            assertThat(again.status(during)).as("created while the journal failed: not remembered").isNull();
        }
    }
}

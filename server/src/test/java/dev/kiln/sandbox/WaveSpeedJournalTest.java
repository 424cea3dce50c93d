package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.emulator.wavespeed.WaveSpeedEmulator;
import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.ProviderHttp;
import dev.kiln.provider.RemoteRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.provider.SubmitRequest;
import dev.kiln.provider.Submitted;
import dev.kiln.provider.wavespeed.WaveSpeedConfig;
import dev.kiln.provider.wavespeed.WaveSpeedProvider;
import dev.kiln.support.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sandbox tasks outlive a restart of the emulator, as tasks at a real provider outlive a restart of Kiln. */
class WaveSpeedJournalTest {
    final WaveSpeedProvider adapter = new WaveSpeedProvider(new ProviderHttp(), WaveSpeedConfig.defaults("sandbox"));

    static SubmitRequest request(String prompt) {
        return new SubmitRequest("job_1", 1, "sandbox-image", "txt2img", "image", "kiln/sandbox-image",
                Json.parse("{\"prompt\":\"${prompt}\",\"size\":\"64*64\",\"seed\":7}"), Map.of("prompt", prompt), Map.of(), null,
                Instant.now().plusSeconds(60), Duration.ofSeconds(1));
    }

    static ProviderAccount account(WaveSpeedEmulator e) {
        return new ProviderAccount("acct_1", "sandbox", "sandbox", e.baseUrl(), "k", Map.of(), true);
    }

    @Test
    void aTaskSubmittedBeforeARestartCompletesAfterIt(@TempDir Path dir) {
        Path journal = dir.resolve("sandbox/wavespeed.jsonl");
        WaveSpeedEmulator.Config config = WaveSpeedEmulator.Config.defaults().withApiKey("k").withLatency(Duration.ofMillis(800));
        WaveSpeedEmulator first = WaveSpeedEmulator.start(config, journal);
        Submitted running = adapter.submit(account(first), request("before restart"));
        Submitted cancelled = adapter.submit(account(first), request("cancelled"));
        adapter.cancel(account(first), new RemoteRef(cancelled.remoteId(), cancelled.remote()));
        first.close();

        WaveSpeedEmulator second = WaveSpeedEmulator.start(config, journal);
        try {
            assertThat(second.status(running.remoteId())).isIn("created", "processing", "completed");
            await().atMost(Duration.ofSeconds(5)).until(() -> "completed".equals(second.status(running.remoteId())));
            RemoteStatus st = adapter.poll(account(second), new RemoteRef(running.remoteId(), running.remote()));
            assertThat(st).isInstanceOf(RemoteStatus.Succeeded.class);
            assertThat(second.status(cancelled.remoteId())).isEqualTo("cancelled");
        } finally {
            second.close();
        }
    }

    @Test
    void aLineCutShortByACrashIsSkipped(@TempDir Path dir) throws Exception {
        Path journal = dir.resolve("wavespeed.jsonl");
        WaveSpeedEmulator.Config config = WaveSpeedEmulator.Config.defaults().withApiKey("k");
        WaveSpeedEmulator first = WaveSpeedEmulator.start(config, journal);
        Submitted s = adapter.submit(account(first), request("kept"));
        first.close();
        Files.writeString(journal, "{\"id\":\"half", java.nio.file.StandardOpenOption.APPEND);
        WaveSpeedEmulator second = WaveSpeedEmulator.start(config, journal);
        try {
            assertThat(second.status(s.remoteId())).isEqualTo("completed");
        } finally {
            second.close();
        }
    }
}

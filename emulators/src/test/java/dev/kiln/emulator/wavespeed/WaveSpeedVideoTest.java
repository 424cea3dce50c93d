package dev.kiln.emulator.wavespeed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.emulator.support.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The emulator renders videos for video models, and remembers their frame count and rate across a restart. */
class WaveSpeedVideoTest {
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void videoModelsGiveVideosAndImageModelsRefuseVideoFormats(@TempDir Path dir) throws Exception {
        Path journal = dir.resolve("wavespeed.jsonl");
        WaveSpeedEmulator.Config config = WaveSpeedEmulator.Config.defaults();
        String id;
        byte[] first;
        try (WaveSpeedEmulator e = WaveSpeedEmulator.start(config, journal)) {
            JsonNode mp4 = submit(e, "kiln/sandbox-video", "{\"prompt\":\"tide\",\"size\":\"64*48\",\"num_frames\":10,\"fps\":8,\"output_format\":\"mp4\",\"seed\":3}");
            assertThat(mp4.path("code").asInt()).isEqualTo(200);
            id = mp4.path("data").path("id").asString();
            HttpResponse<byte[]> out = fetch(e, id, "0.mp4");
            assertThat(out.statusCode()).isEqualTo(200);
            assertThat(out.headers().firstValue("Content-Type")).hasValue("video/mp4");
            first = out.body();
            assertThat(new String(first, 4, 4, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("ftyp");

            JsonNode gif = submit(e, "kiln/sandbox-video", "{\"prompt\":\"tide\",\"size\":\"64*48\",\"num_frames\":4,\"output_format\":\"gif\"}");
            HttpResponse<byte[]> g = fetch(e, gif.path("data").path("id").asString(), "0.gif");
            assertThat(g.headers().firstValue("Content-Type")).hasValue("image/gif");

            JsonNode refused = submit(e, "kiln/sandbox-image", "{\"prompt\":\"p\",\"output_format\":\"mp4\"}");
            assertThat(refused.path("code").asInt()).isEqualTo(400);
            JsonNode wrongFormat = submit(e, "kiln/sandbox-video", "{\"prompt\":\"p\",\"num_frames\":8,\"output_format\":\"png\"}");
            assertThat(wrongFormat.path("message").asString()).contains("mp4, webm, gif");
            JsonNode tooMany = submit(e, "kiln/sandbox-video", "{\"prompt\":\"p\",\"num_frames\":100000}");
            assertThat(tooMany.path("message").asString()).contains("num_frames");
        }
        // After a restart the task renders the very same video from the journal.
        try (WaveSpeedEmulator e = WaveSpeedEmulator.start(config, journal)) {
            assertThat(fetch(e, id, "0.mp4").body()).isEqualTo(first);
        }
    }

    private JsonNode submit(WaveSpeedEmulator e, String model, String body) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(e.baseUrl() + "/api/v3/" + model))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
        return Json.parse(r.body());
    }

    private HttpResponse<byte[]> fetch(WaveSpeedEmulator e, String id, String name) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(e.baseUrl() + "/outputs/" + id + "/" + name)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }
}

package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.asset.AssetService;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.io.ByteArrayInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/** A sandbox-video job through the whole of Kiln: API, engine, WaveSpeed adapter and emulator, asset store. */
class SandboxVideoJobTest extends KilnIntegrationTest {
    @Autowired AssetService assets;

    @ParameterizedTest
    @CsvSource({"mp4,video/mp4,true", "webm,video/webm,false", "gif,image/gif,true"})
    void aSandboxVideoJobStoresAVideoWithItsFactsAndPoster(String format, String mime, boolean poster) throws Exception {
        String id = submitJob("""
                {"model":"sandbox-video","prompt":"a kiln breathing fire","params":{"width":160,"height":96,
                 "num_frames":24,"fps":8,"output_format":"%s","seed":77}}""".formatted(format));
        JsonNode job = awaitJob(id, Duration.ofSeconds(30));
        assertThat(job.get("status").asString()).as(job.toString()).isEqualTo("succeeded");
        JsonNode out = job.get("outputs").get(0);
        assertThat(out.get("mime").asString()).isEqualTo(mime);
        assertThat(out.get("width").asInt()).isEqualTo(160);
        assertThat(out.get("height").asInt()).isEqualTo(96);
        assertThat(out.get("frames").asInt()).isEqualTo(24);
        assertThat(out.get("fps").asDouble()).isEqualTo(8.0);
        assertThat(out.get("duration_ms").asLong()).isEqualTo(3000L);
        assertThat(assets.find(out.get("asset_id").asString()).orElseThrow().durationMs()).isEqualTo(3000L);

        Http.Answer bytes = http.get(out.get("url").asString());
        assertThat(bytes.status()).isEqualTo(200);
        assertThat(bytes.header("Content-Type")).isEqualTo(mime);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.body()));
        assertThat(sha).isEqualTo(out.get("sha256").asString());

        Http.Answer thumb = http.get(out.get("thumbnail_url").asString());
        if (poster) {
            assertThat(thumb.status()).isEqualTo(200);
            assertThat(thumb.header("Content-Type")).isEqualTo("image/jpeg");
            var img = ImageIO.read(new ByteArrayInputStream(thumb.body()));
            assertThat(img.getWidth()).isEqualTo(160);
            assertThat(img.getHeight()).isEqualTo(96);
        } else {
            assertThat(thumb.status()).isEqualTo(404);
        }
    }
}

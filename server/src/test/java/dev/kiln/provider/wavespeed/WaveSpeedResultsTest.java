package dev.kiln.provider.wavespeed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.provider.OutputRef;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.support.Json;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reading prediction objects and matching inputs: pure functions, checked on hand-written JSON. */
class WaveSpeedResultsTest {

    @ParameterizedTest
    @ValueSource(strings = {"created", "processing", "pending", "queued", ""})
    void unknownAndRunningStatusesArePending(String status) {
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"" + status + "\"}"), null)).isInstanceOf(RemoteStatus.Pending.class);
    }

    @Test
    void finalStatusesMapToKilnsOutcomes() {
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"cancelled\"}"), null)).isInstanceOf(RemoteStatus.Canceled.class);
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"deleted\"}"), null)).isInstanceOf(RemoteStatus.Canceled.class);
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"timeout\",\"error\":\"\"}"), null))
                .isEqualTo(new RemoteStatus.Failed("wavespeed_timeout", "task timed out at WaveSpeed", true));
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"failed\",\"error\":\"timed out waiting for a worker\"}"), null))
                .isEqualTo(new RemoteStatus.Failed("wavespeed_failed", "timed out waiting for a worker", true));
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"failed\",\"error\":\"moderated\"}"), null))
                .isEqualTo(new RemoteStatus.Failed("wavespeed_failed", "moderated", false));
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"failed\",\"error\":\"\"}"), null))
                .isEqualTo(new RemoteStatus.Failed("wavespeed_failed", "task failed at WaveSpeed", false));
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"completed\",\"outputs\":[]}"), null))
                .isInstanceOfSatisfying(RemoteStatus.Failed.class, f -> assertThat(f.retryable()).isTrue());
    }

    @Test
    void outputsAreUrlsDataUrisOrNakedBase64WithTheirTypeSniffed() {
        String jpeg = Base64.getEncoder().encodeToString(SandboxRenderer.render("x", 1, 8, 8, "jpeg"));
        String json = "{\"id\":\"p1\",\"status\":\"completed\",\"outputs\":[\"https://cdn.example/a.png\","
                + "\"data:image/png;base64,iVBORw0KGgo=\",\"" + jpeg + "\",\"AAAA\"]}";

        RemoteStatus s = WaveSpeedResults.status(Json.parse(json), "png");

        assertThat(((RemoteStatus.Succeeded) s).outputs()).containsExactly(
                OutputRef.url("https://cdn.example/a.png"),
                OutputRef.inline("data:image/png;base64,iVBORw0KGgo=", "image/png", "p1_1.png"),
                OutputRef.inline(jpeg, "image/jpeg", "p1_2.jpeg"),
                OutputRef.inline("AAAA", "image/png", "p1_3.png"));
    }

    @Test
    void uploadAnswersGiveTheirUrlsInEitherDocumentedShape() {
        var ticket = WaveSpeedUploads.ticket(Json.parse("""
                {"upload":{"method":"PUT","url":"https://store.example/put?sig=1",
                  "headers":{"Content-Type":"image/png","Authorization":"x","Content-Length":"3"}},
                 "download_url":"https://cdn.example/a.png"}"""));
        assertThat(ticket).isEqualTo(new WaveSpeedUploads.Ticket("PUT", "https://store.example/put?sig=1",
                java.util.Map.of("Content-Type", "image/png"), "https://cdn.example/a.png"));
        assertThat(WaveSpeedUploads.ticket(Json.parse("{\"download_url\":\"https://cdn.example/a.png\"}"))).isNull();
        assertThat(WaveSpeedUploads.ticket(Json.parse("{\"upload\":{\"method\":\"DELETE\",\"url\":\"https://s/x\"},\"download_url\":\"https://c/a\"}")))
                .isNull();

        assertThat(WaveSpeedUploads.fileUrl(Json.parse("{\"type\":\"image\",\"download_url\":\"https://cdn.example/b.png\"}")))
                .isEqualTo("https://cdn.example/b.png");
        assertThat(WaveSpeedUploads.fileUrl(Json.parse("{\"url\":\"https://cdn.example/c.png\"}"))).isEqualTo("https://cdn.example/c.png");
        assertThat(WaveSpeedUploads.fileUrl(Json.parse("{\"url\":\"file:///etc/passwd\"}"))).isNull();
    }

    @Test
    void aFailedTaskIsJudgedByItsErrorTextNotByAnUndocumentedCode() {
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"failed\",\"error\":\"content moderation\",\"code\":5000}"), null))
                .isEqualTo(new RemoteStatus.Failed("wavespeed_failed", "content moderation", false));
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"failed\",\"error\":\"Internal server error\",\"code\":1403}"), null))
                .isEqualTo(new RemoteStatus.Failed("wavespeed_failed", "Internal server error", true));
    }
}

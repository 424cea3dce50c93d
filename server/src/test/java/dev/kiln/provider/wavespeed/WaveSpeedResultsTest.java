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
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"failed\",\"code\":\"5004\",\"error\":\"slow\"}"), null))
                .isEqualTo(new RemoteStatus.Failed("wavespeed_5004", "slow", true));
        assertThat(WaveSpeedResults.status(Json.parse("{\"status\":\"failed\",\"code\":1200,\"error\":\"moderated\"}"), null))
                .isEqualTo(new RemoteStatus.Failed("wavespeed_1200", "moderated", false));
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
    void inputsMatchByValueIgnoringAddedFieldsAndImageUrls() {
        var wanted = Json.parse("{\"prompt\":\"p\",\"seed\":5,\"images\":[\"x\"],\"strength\":0.5}");
        ((tools.jackson.databind.node.ArrayNode) wanted.get("images")).set(0, WaveSpeedInputs.ANY_IMAGE);

        assertThat(WaveSpeedInputs.matches(wanted,
                Json.parse("{\"prompt\":\"p\",\"seed\":5.0,\"images\":[\"https://u/1.png\"],\"strength\":0.50,\"size\":\"1024*1024\"}"))).isTrue();
        assertThat(WaveSpeedInputs.matches(wanted, Json.parse("{\"prompt\":\"p\",\"seed\":6,\"images\":[\"u\"],\"strength\":0.5}"))).isFalse();
        assertThat(WaveSpeedInputs.matches(wanted, Json.parse("{\"prompt\":\"p\",\"seed\":5,\"images\":[\"u\",\"v\"],\"strength\":0.5}"))).isFalse();
        assertThat(WaveSpeedInputs.matches(wanted, Json.parse("{\"prompt\":\"p\",\"seed\":5,\"strength\":0.5}"))).isFalse();
    }
}

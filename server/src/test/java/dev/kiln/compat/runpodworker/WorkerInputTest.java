package dev.kiln.compat.runpodworker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.support.Json;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** worker-comfyui's input rules, and RunPod's endpoint names, without a server. */
class WorkerInputTest {
    static final byte[] PNG_HEAD = {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d};
    static final byte[] JPEG_HEAD = {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0, 0, 0x10};

    @Test
    void theBase64PartIsTakenAfterTheFirstCommaAndItsTypeFromItsBytes() {
        String b64 = Base64.getEncoder().encodeToString(PNG_HEAD);
        // A wrong label in the prefix does not matter: the bytes say PNG.
        assertThat(WorkerInput.dataUri("x.jpg", "data:image/jpeg;base64," + b64)).isEqualTo("data:image/png;base64," + b64);
        assertThat(WorkerInput.dataUri("x.jpg", b64)).isEqualTo("data:image/png;base64," + b64);
        String jpeg = Base64.getEncoder().encodeToString(JPEG_HEAD);
        assertThat(WorkerInput.dataUri("photo", jpeg.substring(0, 4) + "\n" + jpeg.substring(4))).isEqualTo("data:image/jpeg;base64," + jpeg);
        // Unknown bytes: the file name's extension.
        String other = Base64.getEncoder().encodeToString(new byte[] {1, 2, 3, 4});
        assertThat(WorkerInput.dataUri("a.webp", other)).startsWith("data:image/webp;base64,");
        assertThat(WorkerInput.dataUri("a.png", "%%%")).isNull();
        assertThat(WorkerInput.dataUri("a.png", "data:image/png;base64,")).isNull();
    }

    @Test
    void inputIsCheckedInTheWorkersOrderWithItsMessages() {
        assertThatThrownBy(() -> WorkerInput.parse(Json.parse("{\"input\":null}"))).hasMessage(WorkerInput.NO_INPUT);
        assertThatThrownBy(() -> WorkerInput.parse(Json.parse("{\"input\":\"[1\"}"))).hasMessage(WorkerInput.BAD_JSON);
        assertThatThrownBy(() -> WorkerInput.parse(Json.parse("{\"input\":{\"images\":5}}"))).hasMessage(WorkerInput.NO_WORKFLOW);
        assertThatThrownBy(() -> WorkerInput.parse(Json.parse("{\"input\":{\"workflow\":{\"1\":{}},\"images\":[{\"image\":\"x\"}]}}")))
                .hasMessage(WorkerInput.BAD_IMAGES);
        String png = Base64.getEncoder().encodeToString(PNG_HEAD);
        assertThatThrownBy(() -> WorkerInput.parse(Json.parse("{\"input\":{\"workflow\":{\"1\":{}},\"images\":[{\"name\":\"a.png\",\"image\":\""
                + png + "\"},{\"name\":\"a.png\",\"image\":\"" + png + "\"}]}}"))).hasMessageContaining("given twice");
        // A JSON string holding the input is parsed, as the worker does; unknown keys (comfy_org_api_key) are left alone.
        WorkerInput in = WorkerInput.parse(Json.parse("{\"input\":\"{\\\"workflow\\\":{\\\"1\\\":{\\\"class_type\\\":\\\"X\\\"}},"
                + "\\\"comfy_org_api_key\\\":\\\"k\\\"}\",\"policy\":{\"lowPriority\":true}}"));
        assertThat(in.workflow()).containsKey("1");
        assertThat(in.lowPriority()).isTrue();
        assertThat(in.images()).isEmpty();
    }

    @Test
    void endpointNamesAreRunPodsAndTheWaitIsClamped() {
        assertThat(WorkerEndpoints.parse(" gpu = my-model , video=v ")).containsExactly(java.util.Map.entry("gpu", "my-model"),
                java.util.Map.entry("video", "v"));
        assertThatThrownBy(() -> WorkerEndpoints.parse("a b=c")).hasMessageContaining("name=model");
        assertThatThrownBy(() -> WorkerEndpoints.parse("gpu")).hasMessageContaining("name=model");
        assertThat(RunPodWorkerController.waitMillis(null)).isEqualTo(90_000);
        assertThat(RunPodWorkerController.waitMillis("10")).isEqualTo(1_000);
        assertThat(RunPodWorkerController.waitMillis("999999")).isEqualTo(300_000);
        assertThatThrownBy(() -> RunPodWorkerController.waitMillis("1s")).hasMessageContaining("wait must be");
    }
}

package dev.kiln.provider.runpod;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.emulator.render.SandboxRenderer;
import dev.kiln.provider.RemoteStatus;
import dev.kiln.support.Json;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

/**
 * RunPod {@code /status} bodies whose output is a plain string (a custom handler's return value, or
 * worker-comfyui before 5.0's {@code message}): a file only when it is a URL, a data: URI or base64
 * of an image or video; any other text is the worker's message and fails the job with it.
 */
class RunPodResultsTest {
    static ObjectNode completed(Object output) {
        ObjectNode o = Json.object();
        o.put("id", "job-1");
        o.put("status", "COMPLETED");
        if (output instanceof String s) o.put("output", s);
        else o.set("output", Json.MAPPER.valueToTree(output));
        return o;
    }

    @Test
    void aTextOutputFailsTheJobWithThatText() {
        RemoteStatus s = RunPodResults.status(completed("CUDA out of memory while loading the checkpoint"));
        assertThat(s).isInstanceOfSatisfying(RemoteStatus.Failed.class, f -> {
            assertThat(f.message()).isEqualTo("CUDA out of memory while loading the checkpoint");
            assertThat(f.code()).isEqualTo("runpod_failed");
        });
        // Words that happen to be valid base64 are still not a file.
        assertThat(RunPodResults.status(completed("AAAABBBBCCCCDDDDEEEEFFFF"))).isInstanceOf(RemoteStatus.Failed.class);
        assertThat(RunPodResults.status(completed(java.util.Map.of("message", "workflow finished, nothing saved"))))
                .isInstanceOfSatisfying(RemoteStatus.Failed.class, f -> assertThat(f.message()).isEqualTo("workflow finished, nothing saved"));
        assertThat(RunPodResults.status(completed(java.util.List.of("done")))).isInstanceOf(RemoteStatus.Failed.class);
    }

    @Test
    void urlsDataUrisAndBase64ImagesAreFiles() {
        String png = Base64.getEncoder().encodeToString(SandboxRenderer.render("x", 1, 8, 8, "png"));
        assertThat(RunPodResults.status(completed(png))).isInstanceOfSatisfying(RemoteStatus.Succeeded.class,
                s -> assertThat(s.outputs().getFirst().mime()).isEqualTo("image/png"));
        assertThat(RunPodResults.status(completed("data:image/png;base64," + png))).isInstanceOf(RemoteStatus.Succeeded.class);
        assertThat(RunPodResults.status(completed("https://bucket.example/05-26/job-1/abcd1234.png?X-Amz-Signature=1")))
                .isInstanceOf(RemoteStatus.Succeeded.class);
        assertThat(RunPodResults.status(completed(java.util.Map.of("message", png)))).isInstanceOf(RemoteStatus.Succeeded.class);
    }
}

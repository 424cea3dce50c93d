package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.testing.Http;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The RunPod worker format with {@code KILN_AUTH=on}: {@code Authorization: Bearer <Kiln API key>}
 * as a RunPod client sends its key, RunPod's 401 without one, and one user's requests unknown to
 * another.
 */
class RunPodWorkerAuthTest extends OnModeTest {
    static final String BODY = """
            {"input":{"workflow":{"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"ponyDiffusionV6XL_v6StartWithThisOne.safetensors"}},
             "5":{"class_type":"EmptyLatentImage","inputs":{"width":64,"height":64,"batch_size":1}},
             "6":{"class_type":"CLIPTextEncode","inputs":{"text":"a fox","clip":["4",1]}},
             "3":{"class_type":"KSampler","inputs":{"seed":1,"steps":2,"cfg":7,"sampler_name":"euler","scheduler":"normal","denoise":1,
                  "model":["4",0],"positive":["6",0],"negative":["6",0],"latent_image":["5",0]}},
             "8":{"class_type":"VAEDecode","inputs":{"samples":["3",0],"vae":["4",2]}},
             "9":{"class_type":"SaveImage","inputs":{"filename_prefix":"ComfyUI","images":["8",0]}}}}}""";

    @Test
    void aRunPodClientUsesAKilnApiKeyAsItsBearerKey() {
        User u = newUser();
        Http.Answer made = u.bearer().post("/v1/api-keys", "{\"name\":\"runpod client\"}");
        assertThat(made.status()).as(made.toString()).isEqualTo(201);
        Http client = anon.with("Authorization", "Bearer " + made.json().get("key").asString());

        Http.Answer none = anon.post("/v2/default/run", BODY);
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.json().get("error").asString()).isNotBlank();
        Http.Answer wrong = anon.with("Authorization", "Bearer nope").post("/v2/default/run", BODY);
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.json().has("error")).isTrue();

        Http.Answer run = client.post("/v2/default/run", BODY);
        assertThat(run.status()).as(run.toString()).isEqualTo(200);
        String id = run.json().get("id").asString();
        JsonNode[] last = {null};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = client.get("/v2/default/status/" + id).json();
            return last[0].get("status").asString().equals("COMPLETED") || last[0].get("status").asString().equals("FAILED");
        });
        assertThat(last[0].get("status").asString()).as(last[0].toString()).isEqualTo("COMPLETED");
        // Another user does not see it, on either path.
        User stranger = newUser();
        assertThat(stranger.bearer().get("/v2/default/status/" + id).status()).isEqualTo(404);
        assertThat(stranger.bearer().post("/v2/default/cancel/" + id, "").status()).isEqualTo(404);
        assertThat(stranger.bearer().get("/status/" + id).status()).isEqualTo(404);
        assertThat(client.get("/status/" + id).json().get("status").asString()).isEqualTo("completed");
    }
}

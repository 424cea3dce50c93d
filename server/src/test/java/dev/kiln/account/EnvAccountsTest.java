package dev.kiln.account;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.provider.ProviderDescriptor;
import dev.kiln.provider.Providers;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/** Environment accounts, read through the descriptors every provider registers (the real ones, found as Spring finds them). */
class EnvAccountsTest {
    static AnnotationConfigApplicationContext providers;
    static List<ProviderDescriptor> descriptors;

    @BeforeAll
    static void scan() {
        providers = new AnnotationConfigApplicationContext("dev.kiln.provider");
        descriptors = List.copyOf(providers.getBeansOfType(ProviderDescriptor.class).values());
    }

    @AfterAll
    static void close() {
        providers.close();
    }

    static List<AccountStore.Definition> read(Map<String, String> env) {
        return EnvAccounts.definitions(new HashMap<>(env)::get, descriptors);
    }

    static AccountStore.Definition only(Map<String, String> env) {
        List<AccountStore.Definition> defs = read(env);
        assertThat(defs).hasSize(1);
        return defs.getFirst();
    }

    @Test
    void everyProviderHasOneDescriptorAndItsAdaptersAreRegistered() {
        assertThat(descriptors).extracting(ProviderDescriptor::id)
                .containsExactlyInAnyOrder("wavespeed", "replicate", "fal", "runpod", "comfyui");
        assertThat(providers.getBean(Providers.class).ids())
                .containsExactlyInAnyOrder("wavespeed", "sandbox", "replicate", "fal", "runpod", "comfyui");
        assertThat(descriptors).allSatisfy(d -> assertThat(d.getClass().getPackageName()).isEqualTo("dev.kiln.provider." + d.id()));
    }

    @Test
    void nothingSetMeansNoAccounts() {
        assertThat(read(Map.of())).isEmpty();
        assertThat(read(Map.of("WAVESPEED_API_KEY", "  ", "RUNPOD_API_KEY", "k"))).as("blank key; RunPod without its endpoint").isEmpty();
    }

    @Test
    void eachProviderWithItsDefaultsAndSettings() {
        AccountStore.Definition ws = only(Map.of("WAVESPEED_API_KEY", " k1 ", "WAVESPEED_WEBHOOK_SECRET", "whsec_x"));
        assertThat(ws).isEqualTo(new AccountStore.Definition("wavespeed", "env", "env", "https://api.wavespeed.ai", "k1",
                Map.of("webhook_secret", "whsec_x"), false, 2, 50));
        assertThat(only(Map.of("REPLICATE_API_TOKEN", "r"))).isEqualTo(new AccountStore.Definition("replicate", "env", "env",
                "https://api.replicate.com/v1", "r", Map.of(), false, 20, 600));
        assertThat(only(Map.of("FAL_KEY", "f"))).isEqualTo(new AccountStore.Definition("fal", "env", "env", "https://queue.fal.run", "f",
                Map.of("jwks_url", "https://rest.alpha.fal.ai/.well-known/jwks.json"), false, 10, 600));
        assertThat(only(Map.of("RUNPOD_API_KEY", "p", "RUNPOD_ENDPOINT_ID", " ep1 "))).isEqualTo(new AccountStore.Definition("runpod",
                "env", "env", "https://api.runpod.ai/v2", "p", Map.of("endpoint_id", "ep1", "rest_url", "https://rest.runpod.io/v1",
                "video_outputs", "false"), false, 10, 600));
        // A custom worker that returns VideoHelperSuite's files, with the models its image holds.
        assertThat(only(Map.of("RUNPOD_API_KEY", "p", "RUNPOD_ENDPOINT_ID", "ep1", "RUNPOD_VIDEO_OUTPUTS", "true",
                "RUNPOD_COMFY_MODELS", "checkpoints/a.safetensors")).config())
                .containsEntry("video_outputs", "true").containsEntry("comfy_models", "checkpoints/a.safetensors");
        assertThat(only(Map.of("COMFYUI_URL", "http://gpu:8188/"))).isEqualTo(new AccountStore.Definition("comfyui", "env", "env",
                "http://gpu:8188", null, Map.of(), false, 2, 600));
    }

    @Test
    void baseUrlsAndLimitsFromTheirVariables() {
        AccountStore.Definition d = only(Map.of("FAL_KEY", "f", "FAL_BASE_URL", "http://127.0.0.1:9/q//", "FAL_JWKS_URL", "http://127.0.0.1:9/jwks",
                "FAL_MAX_CONCURRENCY", "3", "FAL_RATE_PER_MINUTE", " 7 "));
        assertThat(d.baseUrl()).isEqualTo("http://127.0.0.1:9/q");
        assertThat(d.config()).containsEntry("jwks_url", "http://127.0.0.1:9/jwks");
        assertThat(d.maxConcurrency()).isEqualTo(3);
        assertThat(d.ratePerMinute()).isEqualTo(7);
        assertThatThrownBy(() -> read(Map.of("COMFYUI_URL", "http://x", "COMFYUI_MAX_CONCURRENCY", "0")))
                .hasMessage("COMFYUI_MAX_CONCURRENCY must be a positive integer, got '0'");
    }
}

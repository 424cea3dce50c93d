package dev.kiln.provider.runpod;

import dev.kiln.provider.Provider;
import dev.kiln.provider.ProviderDescriptor;
import dev.kiln.provider.ProviderHttp;
import java.util.List;
import org.springframework.stereotype.Component;

/** RunPod serverless: one endpoint running worker-comfyui; an account needs its endpoint id. */
@Component
class RunPodDescriptor implements ProviderDescriptor {
    @Override
    public String id() {
        return "runpod";
    }

    @Override
    public List<Provider> adapters(ProviderHttp http) {
        return List.of(new RunPodProvider(http, RunPodConfig.defaults()));
    }

    @Override
    public Env env() {
        return Env.keyed("RUNPOD", "RUNPOD_API_KEY", "https://api.runpod.ai/v2", new Limits(10, 600));
    }

    @Override
    public List<Setting> settings() {
        return List.of(Setting.required("endpoint_id", "RUNPOD_ENDPOINT_ID"),
                Setting.withDefault("rest_url", "RUNPOD_REST_URL", "https://rest.runpod.io/v1"),
                // What the worker image has, which a RunPod endpoint cannot be asked (docs/PROVIDERS.md).
                Setting.withDefault("video_outputs", "RUNPOD_VIDEO_OUTPUTS", "false"),
                Setting.optional("comfy_models", "RUNPOD_COMFY_MODELS"),
                Setting.optional("comfy_nodes", "RUNPOD_COMFY_NODES"));
    }

    /** The binding's input is the workflow itself. */
    @Override
    public boolean bindingsNeedRemote() {
        return false;
    }

    @Override
    public Sandbox sandbox() {
        return new Sandbox("runpod", List.of(id()));
    }
}

package dev.kiln.provider.comfyui;

import dev.kiln.provider.Provider;
import dev.kiln.provider.ProviderDescriptor;
import dev.kiln.provider.ProviderHttp;
import java.util.List;
import org.springframework.stereotype.Component;

/** A ComfyUI server: no key, so an account exists when its URL ({@code COMFYUI_URL}) is set. */
@Component
class ComfyUiDescriptor implements ProviderDescriptor {
    @Override
    public String id() {
        return "comfyui";
    }

    @Override
    public List<Provider> adapters(ProviderHttp http) {
        return List.of(new ComfyUiProvider(http, ComfyUiConfig.defaults()));
    }

    @Override
    public Env env() {
        return new Env("COMFYUI", null, "COMFYUI_URL", null, new Limits(2, 600));
    }

    @Override
    public List<Setting> settings() {
        return List.of();
    }

    /** The binding's input is the workflow itself. */
    @Override
    public boolean bindingsNeedRemote() {
        return false;
    }

    @Override
    public Sandbox sandbox() {
        return new Sandbox("comfyui", List.of(id()));
    }
}

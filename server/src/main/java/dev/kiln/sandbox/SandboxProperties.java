package dev.kiln.sandbox;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Configuration;

/**
 * What the sandbox's ComfyUI and RunPod worker have besides the models and custom nodes the shipped
 * catalogue needs, for catalogue files of one's own ({@code KILN_CATALOG_DIR}) whose workflows name
 * others: {@code KILN_SANDBOX_COMFY_MODELS} ({@code folder/file}, comma-separated, e.g.
 * {@code checkpoints/juggernautXL.safetensors,loras/detail.safetensors}) and
 * {@code KILN_SANDBOX_COMFY_NODES} (custom node classes). Like a real server, the emulators refuse
 * a workflow that names anything else, and Kiln refuses it at submission.
 */
@ConfigurationProperties("kiln")
public record SandboxProperties(List<String> sandboxComfyModels, List<String> sandboxComfyNodes) {
    public SandboxProperties {
        sandboxComfyModels = clean(sandboxComfyModels);
        sandboxComfyNodes = clean(sandboxComfyNodes);
    }

    private static List<String> clean(List<String> items) {
        return items == null ? List.of() : items.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** Binds {@link SandboxProperties}. */
    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(SandboxProperties.class)
    static class Binding {}
}

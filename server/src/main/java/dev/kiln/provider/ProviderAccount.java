package dev.kiln.provider;

import java.util.Map;

/**
 * One credential or endpoint of a provider, as an adapter sees it. {@code secret} is the API key
 * (decrypted); {@code config} holds provider-specific settings such as a RunPod endpoint id or a
 * webhook signing secret.
 */
public record ProviderAccount(
        String id, String provider, String label, String baseUrl, String secret,
        Map<String, String> config, boolean sandbox) {

    public ProviderAccount {
        config = config == null ? Map.of() : Map.copyOf(config);
    }

    public String config(String key) {
        return config.get(key);
    }

    @Override
    public String toString() {
        // Never print the secret.
        return "ProviderAccount[" + id + ", " + provider + ", " + label + ", " + baseUrl + (sandbox ? ", sandbox" : "") + "]";
    }
}

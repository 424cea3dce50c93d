package dev.kiln.emulator;

import java.util.Map;

/**
 * A running emulator as a client sees it: where to point, which key to present, and the
 * service-specific settings a client needs (a webhook signing secret, a key set URL, an endpoint id).
 *
 * @param service the service's name ({@code wavespeed}, …)
 * @param title the service as people write it
 * @param baseUrl the base URL a client of the real service would be configured with
 * @param apiKey the key it requires, or null when it takes none (ComfyUI)
 * @param settings further values a client needs, by the name the provider's own docs give them
 * @param instance the emulator itself (for tests that arm its faults); closed with this
 */
public record Emulator(String service, String title, String baseUrl, String apiKey, Map<String, String> settings,
                       AutoCloseable instance) implements AutoCloseable {

    public Emulator {
        settings = Map.copyOf(settings);
    }

    @Override
    public void close() {
        try {
            instance.close();
        } catch (Exception e) {
            throw new IllegalStateException("the " + title + " emulator did not stop cleanly", e);
        }
    }

    @Override
    public String toString() {
        return "Emulator[" + title + " at " + baseUrl + "]";
    }
}

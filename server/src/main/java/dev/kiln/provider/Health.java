package dev.kiln.provider;

import tools.jackson.databind.JsonNode;

/**
 * The result of an account health check.
 *
 * @param capabilities what the account can run, as the provider describes it (ComfyUI: the node
 *     classes and model files of its {@code /object_info}, see {@link ComfyCapabilities}); null when
 *     the provider says nothing of it or the check could not find out. Kiln stores it with the
 *     account and hands it back to {@link Provider#shortfalls}.
 */
public record Health(boolean ok, String message, JsonNode capabilities) {
    public static Health ok(String message) { return new Health(true, message, null); }
    public static Health ok(String message, JsonNode capabilities) { return new Health(true, message, capabilities); }
    public static Health failed(String message) { return new Health(false, message, null); }
}

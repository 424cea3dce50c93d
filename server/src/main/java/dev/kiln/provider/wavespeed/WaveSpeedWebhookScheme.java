package dev.kiln.provider.wavespeed;

import dev.kiln.provider.SignedWebhooks;
import dev.kiln.provider.WebhookRejected;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;

/**
 * WaveSpeed's variant of the signed-webhook scheme: entries {@code v3,<hex>}, the HMAC keyed with
 * the secret's text after {@code whsec_} as raw UTF-8 (not base64-decoded, unlike Standard Webhooks).
 */
final class WaveSpeedWebhookScheme implements SignedWebhooks.Scheme {
    @Override
    public byte[] key(String secret) {
        String key = SignedWebhooks.withoutPrefix(secret);
        if (key.isEmpty()) throw new WebhookRejected("the webhook secret is empty");
        return key.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] signature(String entry) {
        if (!entry.startsWith("v3,")) return null;
        try {
            return HexFormat.of().parseHex(entry.substring(3).toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}

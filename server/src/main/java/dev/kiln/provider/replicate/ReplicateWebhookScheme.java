package dev.kiln.provider.replicate;

import dev.kiln.provider.SignedWebhooks;
import dev.kiln.provider.WebhookRejected;
import java.util.Base64;

/**
 * Replicate's webhooks follow Standard Webhooks exactly: entries {@code v1,<base64>}, the HMAC
 * keyed with the base64-decoded part of the secret after {@code whsec_}. The secret is the
 * account's {@code webhook_secret} setting, or else fetched from {@code GET /webhooks/default/secret}.
 */
final class ReplicateWebhookScheme implements SignedWebhooks.Scheme {
    @Override
    public byte[] key(String secret) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(SignedWebhooks.withoutPrefix(secret).trim());
        } catch (IllegalArgumentException e) {
            throw new WebhookRejected("the webhook secret is not whsec_<base64>");
        }
        if (key.length == 0) throw new WebhookRejected("the webhook secret is empty");
        return key;
    }

    @Override
    public byte[] signature(String entry) {
        if (!entry.startsWith("v1,")) return null;
        try {
            return Base64.getDecoder().decode(entry.substring(3));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}

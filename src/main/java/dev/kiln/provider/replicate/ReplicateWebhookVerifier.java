package dev.kiln.provider.replicate;

import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.provider.WebhookNotice;
import dev.kiln.provider.WebhookRejected;
import dev.kiln.support.Json;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Checks Replicate webhooks, which follow the Standard Webhooks (Svix) scheme: headers
 * {@code webhook-id}, {@code webhook-timestamp} (unix seconds) and {@code webhook-signature}, a
 * space-separated list of {@code v1,<base64>}, each an HMAC-SHA256 over
 * {@code "{id}.{timestamp}.{raw body}"} keyed with the base64-decoded part of the secret after
 * {@code whsec_}. The secret is the account's {@code webhook_secret} setting, or else fetched from
 * {@code GET /webhooks/default/secret} once and cached per account.
 */
final class ReplicateWebhookVerifier {
    /** A fetched secret is fetched again on a mismatch (it may have been rotated), at most this often. */
    private static final Duration REFRESH_AFTER = Duration.ofMinutes(1);

    private record Cached(String secret, Instant fetchedAt) {}

    private final Duration tolerance;
    private final Function<ProviderAccount, String> fetchSecret;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    /** @param fetchSecret reads the account's signing secret from Replicate; throws WebhookRejected if it cannot */
    ReplicateWebhookVerifier(Duration tolerance, Function<ProviderAccount, String> fetchSecret) {
        this.tolerance = tolerance;
        this.fetchSecret = fetchSecret;
    }

    WebhookNotice verify(ProviderAccount account, WebhookDelivery delivery) {
        String id = delivery.header("webhook-id");
        String ts = delivery.header("webhook-timestamp");
        String sig = delivery.header("webhook-signature");
        if (blank(id) || blank(ts) || blank(sig)) throw new WebhookRejected("missing webhook-id, webhook-timestamp or webhook-signature header");
        long seconds;
        try {
            seconds = Long.parseLong(ts.trim());
        } catch (NumberFormatException e) {
            throw new WebhookRejected("webhook-timestamp is not unix seconds");
        }
        long age = Math.abs(delivery.receivedAt().getEpochSecond() - seconds);
        if (age > tolerance.toSeconds()) throw new WebhookRejected("webhook-timestamp is " + age + " s away from now");

        String configured = account.config("webhook_secret");
        if (configured != null && !configured.isBlank()) {
            if (!signed(configured, id, ts.trim(), delivery.body(), sig)) throw new WebhookRejected("signature mismatch");
        } else {
            String key = cacheKey(account);
            Cached c = cache.get(key);
            if (c == null) c = refresh(account, key);
            if (!signed(c.secret(), id, ts.trim(), delivery.body(), sig)) {
                if (Duration.between(c.fetchedAt(), Instant.now()).compareTo(REFRESH_AFTER) < 0) {
                    throw new WebhookRejected("signature mismatch");
                }
                c = refresh(account, key);
                if (!signed(c.secret(), id, ts.trim(), delivery.body(), sig)) throw new WebhookRejected("signature mismatch");
            }
        }

        String predictionId;
        try {
            JsonNode body = Json.MAPPER.readTree(delivery.body());
            predictionId = body == null ? "" : body.path("id").asString("");
        } catch (JacksonException e) {
            throw new WebhookRejected("body is not JSON");
        }
        if (predictionId.isBlank()) throw new WebhookRejected("body carries no prediction id");
        return new WebhookNotice(predictionId, id);
    }

    private Cached refresh(ProviderAccount account, String key) {
        Cached c = new Cached(fetchSecret.apply(account), Instant.now());
        cache.put(key, c);
        return c;
    }

    /** Per account, endpoint and token: a new token may belong to another Replicate user. */
    private static String cacheKey(ProviderAccount account) {
        return account.id() + "|" + account.baseUrl() + "|" + HexFormat.of().formatHex(sha256(String.valueOf(account.secret())));
    }

    /** Whether any {@code v1,<base64>} entry of the space-separated signature header matches. */
    static boolean signed(String secret, String webhookId, String timestamp, byte[] body, String header) {
        byte[] expected = hmac(secret, webhookId, timestamp, body);
        boolean ok = false;
        for (String part : header.trim().split("\\s+")) {
            if (!part.startsWith("v1,")) continue;
            byte[] given;
            try {
                given = Base64.getDecoder().decode(part.substring(3));
            } catch (IllegalArgumentException e) {
                continue;
            }
            // Constant time, every entry checked.
            ok |= MessageDigest.isEqual(expected, given);
        }
        return ok;
    }

    /** HMAC-SHA256 over {@code id.timestamp.body} with the base64-decoded secret. */
    static byte[] hmac(String secret, String webhookId, String timestamp, byte[] body) {
        String b64 = secret.startsWith("whsec_") ? secret.substring("whsec_".length()) : secret;
        byte[] key;
        try {
            key = Base64.getDecoder().decode(b64.trim());
        } catch (IllegalArgumentException e) {
            throw new WebhookRejected("the webhook secret is not whsec_<base64>");
        }
        if (key.length == 0) throw new WebhookRejected("the webhook secret is empty");
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((webhookId + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}

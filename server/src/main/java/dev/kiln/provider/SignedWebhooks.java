package dev.kiln.provider;

import dev.kiln.support.Json;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Checks webhooks signed in the Standard Webhooks (Svix) shape, which WaveSpeed and Replicate
 * share: headers {@code webhook-id}, {@code webhook-timestamp} (unix seconds, within a tolerance)
 * and {@code webhook-signature}, a space-separated list of {@code <version>,<signature>} entries,
 * each an HMAC-SHA256 over {@code "{id}.{timestamp}.{raw body}"}; the body's {@code id} names the
 * remote job. The secret is the account's {@code webhook_secret} setting, or else fetched from the
 * provider once and cached per account (fetched again on a mismatch, at most once a minute, in
 * case it was rotated). How the key is read from the secret and how an entry is encoded differ by
 * provider: that is the {@link Scheme}.
 */
public final class SignedWebhooks {
    /** A fetched secret is fetched again on a mismatch (it may have been rotated), at most this often. */
    private static final Duration REFRESH_AFTER = Duration.ofMinutes(1);

    /** What differs between providers signing this way. */
    public interface Scheme {
        /** The HMAC key held by the secret text; throws WebhookRejected when the secret is unusable. */
        byte[] key(String secret);

        /** The signature one header entry carries, or null when the entry is of another version or malformed. */
        byte[] signature(String entry);
    }

    private record Cached(String secret, Instant fetchedAt) {}

    private final Duration tolerance;
    private final Function<ProviderAccount, String> fetchSecret;
    private final Scheme scheme;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    /** @param fetchSecret reads the account's signing secret from the provider; throws WebhookRejected if it cannot */
    public SignedWebhooks(Duration tolerance, Function<ProviderAccount, String> fetchSecret, Scheme scheme) {
        this.tolerance = tolerance;
        this.fetchSecret = fetchSecret;
        this.scheme = scheme;
    }

    public WebhookNotice verify(ProviderAccount account, WebhookDelivery delivery) {
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

        String remoteId;
        try {
            JsonNode body = Json.MAPPER.readTree(delivery.body());
            remoteId = body == null ? "" : body.path("id").asString("");
        } catch (JacksonException e) {
            throw new WebhookRejected("body is not JSON");
        }
        if (remoteId.isBlank()) throw new WebhookRejected("body carries no prediction id");
        return new WebhookNotice(remoteId, id);
    }

    private Cached refresh(ProviderAccount account, String key) {
        Cached c = new Cached(fetchSecret.apply(account), Instant.now());
        cache.put(key, c);
        return c;
    }

    /** Per account, endpoint and credential: a new credential may belong to another user of the provider. */
    private static String cacheKey(ProviderAccount account) {
        return account.id() + "|" + account.baseUrl() + "|" + HexFormat.of().formatHex(sha256(String.valueOf(account.secret())));
    }

    /** Whether any entry of the space-separated signature header matches. */
    private boolean signed(String secret, String webhookId, String timestamp, byte[] body, String header) {
        byte[] expected = hmac(scheme.key(secret), webhookId, timestamp, body);
        boolean ok = false;
        for (String part : header.trim().split("\\s+")) {
            byte[] given = scheme.signature(part);
            // Constant time, and every entry checked, so timing tells nothing about which failed.
            if (given != null) ok |= MessageDigest.isEqual(expected, given);
        }
        return ok;
    }

    /** The part of a secret after the {@code whsec_} prefix both providers use. */
    public static String withoutPrefix(String secret) {
        return secret.startsWith("whsec_") ? secret.substring("whsec_".length()) : secret;
    }

    private static byte[] hmac(byte[] key, String webhookId, String timestamp, byte[] body) {
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

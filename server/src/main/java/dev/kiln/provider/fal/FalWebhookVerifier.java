package dev.kiln.provider.fal;

import dev.kiln.provider.ProviderAccount;
import dev.kiln.provider.WebhookDelivery;
import dev.kiln.provider.WebhookNotice;
import dev.kiln.provider.WebhookRejected;
import dev.kiln.support.Json;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Checks fal webhooks (fal docs, "Verifying webhooks"): headers {@code X-Fal-Webhook-Request-Id},
 * {@code -User-Id}, {@code -Timestamp} (unix seconds, ±5 min) and {@code -Signature} (hex), an
 * Ed25519 signature over {@code request_id\nuser_id\ntimestamp\nhex(sha256(raw body))}, valid
 * under any Ed25519 key of fal's JWKS (account setting {@code jwks_url}). Keys are cached for at
 * most {@code jwksMaxAge}; a signature no cached key accepts fetches the set again (key rotation),
 * at most once per {@code refreshMinInterval}.
 */
final class FalWebhookVerifier {
    /** DER prefix of an X.509 SubjectPublicKeyInfo for a raw 32-byte Ed25519 key. */
    private static final byte[] ED25519_SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private record Keys(List<PublicKey> keys, Instant fetchedAt) {}

    private final Duration tolerance;
    private final Duration maxAge;
    private final Duration refreshMinInterval;
    private final Function<String, String> fetchJwks;
    private final Map<String, Keys> cache = new ConcurrentHashMap<>();

    /** @param fetchJwks reads a JWKS document from its URL; throws WebhookRejected if it cannot */
    FalWebhookVerifier(Duration tolerance, Duration maxAge, Duration refreshMinInterval, Function<String, String> fetchJwks) {
        this.tolerance = tolerance;
        this.maxAge = maxAge;
        this.refreshMinInterval = refreshMinInterval;
        this.fetchJwks = fetchJwks;
    }

    WebhookNotice verify(ProviderAccount account, WebhookDelivery delivery) {
        String requestId = delivery.header("X-Fal-Webhook-Request-Id");
        String userId = delivery.header("X-Fal-Webhook-User-Id");
        String ts = delivery.header("X-Fal-Webhook-Timestamp");
        String sig = delivery.header("X-Fal-Webhook-Signature");
        if (blank(requestId) || blank(userId) || blank(ts) || blank(sig)) {
            throw new WebhookRejected("missing X-Fal-Webhook-Request-Id, -User-Id, -Timestamp or -Signature header");
        }
        long seconds;
        try {
            seconds = Long.parseLong(ts.trim());
        } catch (NumberFormatException e) {
            throw new WebhookRejected("X-Fal-Webhook-Timestamp is not unix seconds");
        }
        long age = Math.abs(delivery.receivedAt().getEpochSecond() - seconds);
        if (age > tolerance.toSeconds()) throw new WebhookRejected("X-Fal-Webhook-Timestamp is " + age + " s away from now");
        byte[] signature;
        try {
            signature = HexFormat.of().parseHex(sig.trim().toLowerCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new WebhookRejected("X-Fal-Webhook-Signature is not hex");
        }
        byte[] message = message(requestId.trim(), userId.trim(), ts.trim(), delivery.body());

        String jwksUrl = account.config("jwks_url");
        if (blank(jwksUrl)) jwksUrl = FalDescriptor.JWKS_URL; // accounts stored without the setting: fal's published key set
        Keys keys = cache.get(jwksUrl);
        if (keys == null || Duration.between(keys.fetchedAt(), Instant.now()).compareTo(maxAge) > 0) keys = refresh(jwksUrl);
        if (!verifies(keys.keys(), message, signature)) {
            // Perhaps fal rotated its keys: fetch them again, but not on every forged delivery.
            if (Duration.between(keys.fetchedAt(), Instant.now()).compareTo(refreshMinInterval) < 0) {
                throw new WebhookRejected("signature mismatch");
            }
            keys = refresh(jwksUrl);
            if (!verifies(keys.keys(), message, signature)) throw new WebhookRejected("signature mismatch");
        }

        String bodyId;
        try {
            JsonNode body = Json.MAPPER.readTree(delivery.body());
            bodyId = body == null ? "" : body.path("request_id").asString("");
        } catch (JacksonException e) {
            throw new WebhookRejected("body is not JSON");
        }
        if (!bodyId.isEmpty() && !bodyId.equals(requestId.trim())) throw new WebhookRejected("body and headers name different requests");
        // A retried delivery keeps its request id but is signed anew: the timestamp tells deliveries apart.
        return new WebhookNotice(requestId.trim(), requestId.trim() + "@" + ts.trim());
    }

    /** {@code request_id\nuser_id\ntimestamp\nhex(sha256(body))}. */
    static byte[] message(String requestId, String userId, String timestamp, byte[] body) {
        String digest;
        try {
            digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
        return String.join("\n", requestId, userId, timestamp, digest).getBytes(StandardCharsets.UTF_8);
    }

    private static boolean verifies(List<PublicKey> keys, byte[] message, byte[] signature) {
        for (PublicKey k : keys) {
            try {
                Signature s = Signature.getInstance("Ed25519");
                s.initVerify(k);
                s.update(message);
                if (s.verify(signature)) return true;
            } catch (GeneralSecurityException e) {
                // a malformed signature under this key: try the next
            }
        }
        return false;
    }

    private Keys refresh(String url) {
        Keys k = new Keys(parse(fetchJwks.apply(url)), Instant.now());
        cache.put(url, k);
        return k;
    }

    /** The Ed25519 keys ({@code kty OKP, crv Ed25519, x base64url}) of a JWKS document. */
    static List<PublicKey> parse(String jwks) {
        List<PublicKey> out = new ArrayList<>();
        JsonNode doc;
        try {
            doc = Json.MAPPER.readTree(jwks);
        } catch (JacksonException e) {
            throw new WebhookRejected("the JWKS is not JSON");
        }
        for (JsonNode k : doc == null ? Json.object() : doc.path("keys")) {
            if (!"OKP".equals(k.path("kty").asString("")) || !"Ed25519".equals(k.path("crv").asString(""))) continue;
            try {
                byte[] raw = Base64.getUrlDecoder().decode(k.path("x").asString(""));
                if (raw.length != 32) continue;
                byte[] der = new byte[ED25519_SPKI_PREFIX.length + 32];
                System.arraycopy(ED25519_SPKI_PREFIX, 0, der, 0, ED25519_SPKI_PREFIX.length);
                System.arraycopy(raw, 0, der, ED25519_SPKI_PREFIX.length, 32);
                out.add(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der)));
            } catch (IllegalArgumentException | GeneralSecurityException e) {
                // skip a key this JDK cannot read
            }
        }
        if (out.isEmpty()) throw new WebhookRejected("the JWKS holds no Ed25519 key");
        return List.copyOf(out);
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}

package dev.kiln.job;

import dev.kiln.support.SecretBox;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.stereotype.Component;

/**
 * The per-job token in the webhook URL Kiln gives a provider
 * ({@code /webhooks/{provider}?token=…}). It is derived from the job id with a key derived from
 * {@code KILN_SECRET_KEY} (HMAC-SHA256), so it never needs storing: the {@code jobs} table keeps only
 * its SHA-256 ({@link #digest}), to find the job a delivery names. A copy of the database alone
 * therefore cannot forge a webhook, and no token appears in any SQL parameter.
 */
@Component
public class WebhookTokens {
    private final SecretKeySpec key;

    public WebhookTokens(SecretBox secrets) {
        this.key = new SecretKeySpec(secrets.derive("job-webhook-tokens"), "HmacSHA256");
    }

    /** The token of a job (43 URL-safe characters). */
    public String forJob(String jobId) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(jobId.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the database keeps of a job's token: its SHA-256, hex. */
    public String digestForJob(String jobId) {
        return digest(forJob(jobId));
    }

    /** The SHA-256 of a token as presented, hex; looked up in {@code jobs.webhook_token}. */
    public static String digest(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.kiln.support;

import dev.kiln.config.KilnProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.stereotype.Component;

/**
 * Encrypts secrets at rest (AES-256-GCM): account credentials and secret account settings such as
 * webhook signing secrets. The key is {@code KILN_SECRET_KEY} (base64 of 32 bytes), or one
 * generated once into {@code KILN_DATA_DIR/secret.key} (0600). Instances sharing a PostgreSQL
 * database must share the key. Keys for other purposes (signing, tokens) are derived from it.
 */
@Component
public class SecretBox {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final SecretKeySpec key;

    public SecretBox(KilnProperties props) {
        this.key = new SecretKeySpec(loadKey(props), "AES");
    }

    public String seal(String plain) {
        if (plain == null) return null;
        try {
            byte[] iv = new byte[12];
            RANDOM.nextBytes(iv);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
            byte[] ct = c.doFinal(plain.getBytes(StandardCharsets.UTF_8));
            byte[] out = new byte[iv.length + ct.length];
            System.arraycopy(iv, 0, out, 0, iv.length);
            System.arraycopy(ct, 0, out, iv.length, ct.length);
            return "v1:" + Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encrypt a secret", e);
        }
    }

    public String open(String sealed) {
        if (sealed == null) return null;
        if (!sealed.startsWith("v1:")) throw new IllegalStateException("unknown secret format");
        try {
            byte[] in = Base64.getDecoder().decode(sealed.substring(3));
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, in, 0, 12));
            return new String(c.doFinal(in, 12, in.length - 12), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot decrypt an account secret: is KILN_SECRET_KEY the one it was stored with?", e);
        }
    }

    /**
     * Whether a named setting (an account's config key, a URL parameter) holds a secret: it is then
     * stored sealed and shown masked. Goes by the name, as a new provider's settings are not known here.
     */
    public static boolean isSecretName(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        return n.contains("secret") || n.contains("key") || n.contains("token") || n.contains("password") || n.contains("passwd")
                || n.contains("credential") || n.contains("auth") || n.contains("signature") || n.contains("private");
    }

    /** Whether this is a value {@link #seal} produced. */
    public static boolean isSealed(String value) {
        return value != null && value.startsWith("v1:");
    }

    /** A sha-256 key derived for a purpose, e.g. signing outbound webhooks. */
    public byte[] derive(String purpose) {
        try {
            var mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
            return mac.doFinal(purpose.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] loadKey(KilnProperties props) {
        if (props.secretKey() != null && !props.secretKey().isBlank()) {
            byte[] k = Base64.getDecoder().decode(props.secretKey().trim());
            if (k.length != 32) throw new IllegalStateException("KILN_SECRET_KEY must be base64 of 32 bytes (e.g. `openssl rand -base64 32`)");
            return k;
        }
        Path file = props.dataDir().resolve("secret.key");
        try {
            if (Files.exists(file)) {
                PrivateFiles.restrict(file);
                return Base64.getDecoder().decode(Files.readString(file).trim());
            }
            PrivateFiles.directory(props.dataDir());
            byte[] k = new byte[32];
            RANDOM.nextBytes(k);
            PrivateFiles.createFile(file);
            Files.writeString(file, Base64.getEncoder().encodeToString(k));
            return k;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create " + file, e);
        }
    }
}

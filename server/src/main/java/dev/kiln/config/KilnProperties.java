package dev.kiln.config;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Kiln's configuration, bound from the environment variables listed in README.md (see application.yml).
 * Provider credentials are read by {@code dev.kiln.account} directly from the environment.
 */
@ConfigurationProperties("kiln")
public record KilnProperties(
        Path dataDir,
        String dbUrl,
        String dbUser,
        String dbPassword,
        String publicBaseUrl,
        SandboxMode sandbox,
        Duration sandboxLatency,
        double sandboxFailRate,
        boolean allowPrivateUrls,
        Duration jobTimeout,
        int maxRunJobs,
        DataSize maxBody,
        Duration lease,
        String catalogDir,
        String auth,
        String adminKey,
        String secretKey) {

    public enum SandboxMode { AUTO, ON, OFF }

    public KilnProperties {
        if (dataDir == null) dataDir = Path.of("data");
        dataDir = dataDir.toAbsolutePath().normalize();
        if (sandbox == null) sandbox = SandboxMode.AUTO;
        if (sandboxLatency == null) sandboxLatency = Duration.ofSeconds(2);
        if (jobTimeout == null) jobTimeout = Duration.ofMinutes(20);
        if (maxRunJobs <= 0) maxRunJobs = 1000;
        if (maxBody == null) maxBody = DataSize.ofMegabytes(64);
        if (lease == null) lease = Duration.ofSeconds(30);
        if (sandboxFailRate < 0 || sandboxFailRate > 1) {
            throw new IllegalArgumentException("KILN_SANDBOX_FAIL_RATE must be between 0 and 1, got " + sandboxFailRate);
        }
        publicBaseUrl = blankToNull(publicBaseUrl);
        dbUrl = blankToNull(dbUrl);
        catalogDir = blankToNull(catalogDir);
        adminKey = blankToNull(adminKey);
    }

    /** The base URL providers can reach for webhooks, without a trailing slash, or null. */
    public String webhookBase() {
        return publicBaseUrl == null ? null : publicBaseUrl.replaceAll("/+$", "");
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}

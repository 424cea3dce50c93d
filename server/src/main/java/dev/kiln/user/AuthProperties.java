package dev.kiln.user;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Identity and credit settings, bound from the environment (application.yml): {@code KILN_AUTH},
 * {@code KILN_ADMIN_KEY}, {@code KILN_START_CREDITS}, {@code KILN_CORS_ORIGINS},
 * {@code TELEGRAM_BOT_TOKEN}, plus the session and Telegram windows.
 *
 * @param auth             {@code local}, {@code on}, or blank for "local on a loopback address, else on"
 * @param adminKey         the {@code x-admin-key} value, or null for none
 * @param startCredits     credits each new user starts with
 * @param corsOrigins      origins allowed to call from a browser, with credentials (none: CORS off)
 * @param telegramBotToken enables Telegram Web App login
 * @param sessionTtl       how long a session is valid (24 h)
 * @param telegramMaxAge   how old a Telegram {@code initData} (its {@code auth_date}) may be
 */
@ConfigurationProperties("kiln")
public record AuthProperties(String auth, String adminKey, BigDecimal startCredits, List<String> corsOrigins,
                             String telegramBotToken, Duration sessionTtl, Duration telegramMaxAge) {
    public AuthProperties {
        auth = blankToNull(auth);
        adminKey = blankToNull(adminKey);
        telegramBotToken = blankToNull(telegramBotToken);
        if (startCredits == null) startCredits = BigDecimal.valueOf(100);
        if (startCredits.signum() < 0) throw new IllegalArgumentException("KILN_START_CREDITS must not be negative, got " + startCredits);
        corsOrigins = corsOrigins == null ? List.of()
                : corsOrigins.stream().map(String::trim).filter(s -> !s.isEmpty()).map(o -> o.replaceAll("/+$", "")).toList();
        for (String o : corsOrigins) {
            if (o.equals("*") || !o.matches("https?://[^/\\s]+")) {
                throw new IllegalArgumentException("KILN_CORS_ORIGINS lists origins such as https://app.example.com (scheme://host[:port]);"
                        + " '" + o + "' is not one (a wildcard cannot carry credentials)");
            }
        }
        if (sessionTtl == null) sessionTtl = Duration.ofHours(24);
        if (telegramMaxAge == null) telegramMaxAge = Duration.ofHours(1);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}

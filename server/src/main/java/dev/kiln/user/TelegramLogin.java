package dev.kiln.user;

import static dev.kiln.db.Db.ts;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import tools.jackson.databind.JsonNode;

/**
 * Telegram Web App login: checks {@code initData} exactly as Telegram documents it
 * (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app): the
 * data-check-string is every received field but {@code hash}, sorted by key, as {@code key=value}
 * joined by line feeds; the secret key is HMAC-SHA256 of the bot token keyed by "WebAppData"; the
 * {@code hash} must be the hex HMAC-SHA256 of the data-check-string under that key. On top,
 * {@code auth_date} must be recent ({@code telegramMaxAge}, 1 h) and each {@code initData} is
 * accepted once (its hash is remembered until it would be too old anyway), so a replay is refused.
 */
@Service
public class TelegramLogin {
    /** Clocks differ a little; an auth_date this far in the future is still accepted. */
    private static final Duration SKEW = Duration.ofMinutes(1);
    private final AuthProperties props;
    private final JdbcClient jdbc;
    private final Clock clock;

    TelegramLogin(AuthProperties props, JdbcClient jdbc, Clock clock) {
        this.props = props;
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /** The Telegram user an {@code initData} vouches for. */
    public record Identity(long telegramId, String username, String firstName, String lastName) {
        public String displayName() {
            String n = ((firstName == null ? "" : firstName) + " " + (lastName == null ? "" : lastName)).strip();
            return n.isEmpty() ? null : n;
        }
    }

    public boolean enabled() {
        return props.telegramBotToken() != null;
    }

    /**
     * Verifies an {@code initData} and uses it up.
     *
     * @throws KilnException 401 when it is forged, altered, too old or used before; 422 when it is not initData at all
     */
    public Identity verify(String initData) {
        if (!enabled()) throw KilnException.conflict("Telegram login is not enabled on this server (set TELEGRAM_BOT_TOKEN)");
        if (initData == null || initData.isBlank() || initData.length() > 8192) {
            throw KilnException.validation("initData", "is required: the Telegram.WebApp.initData string (at most 8192 characters)");
        }
        Map<String, String> fields = new TreeMap<>();
        for (String pair : initData.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String k, v;
            try {
                k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw KilnException.validation("initData", "is not a URL-encoded query string");
            }
            if (fields.put(k, v) != null) throw refused();
        }
        String hash = fields.remove("hash");
        if (hash == null || !hash.matches("[0-9a-f]{64}")) throw refused();
        String dataCheck = fields.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n"));
        byte[] expected = hmac(hmac("WebAppData".getBytes(StandardCharsets.UTF_8), props.telegramBotToken().getBytes(StandardCharsets.UTF_8)),
                dataCheck.getBytes(StandardCharsets.UTF_8));
        if (!MessageDigest.isEqual(expected, HexFormat.of().parseHex(hash))) throw refused();

        Instant now = clock.instant();
        Instant authDate;
        try {
            authDate = Instant.ofEpochSecond(Long.parseLong(fields.getOrDefault("auth_date", "")));
        } catch (NumberFormatException e) {
            throw refused();
        }
        if (authDate.isBefore(now.minus(props.telegramMaxAge())) || authDate.isAfter(now.plus(SKEW))) {
            throw new KilnException(ErrorCode.UNAUTHORIZED, "this Telegram login data is too old (auth_date " + authDate
                    + "); open the Mini App again for fresh data");
        }
        JsonNode user;
        try {
            user = Json.parse(fields.get("user"));
        } catch (RuntimeException e) {
            user = null;
        }
        if (user == null || !user.path("id").canConvertToLong()) throw refused();
        try {
            jdbc.sql("INSERT INTO telegram_logins (init_hash, expires_at) VALUES (?, ?)")
                    .params(hash, ts(authDate.plus(props.telegramMaxAge()).plus(SKEW))).update();
        } catch (DuplicateKeyException replay) {
            throw new KilnException(ErrorCode.UNAUTHORIZED, "this Telegram login data was already used; open the Mini App again");
        }
        return new Identity(user.path("id").asLong(), text(user, "username"), text(user, "first_name"), text(user, "last_name"));
    }

    @Scheduled(fixedDelay = 3_600_000, initialDelay = 60_000)
    void forgetExpired() {
        jdbc.sql("DELETE FROM telegram_logins WHERE expires_at < ?").param(ts(clock.instant())).update();
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isString() && !v.asString().isBlank() ? v.asString() : null;
    }

    private static KilnException refused() {
        return new KilnException(ErrorCode.UNAUTHORIZED, "the Telegram login data is not valid (its hash does not match)");
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

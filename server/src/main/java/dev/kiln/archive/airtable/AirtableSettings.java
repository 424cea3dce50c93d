package dev.kiln.archive.airtable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.core.env.Environment;

/**
 * Where the Airtable archive writes, read as the WaveSpeed batch generator reads it: from
 * {@code AIRTABLE_TOKEN}, {@code AIRTABLE_BASE_ID} and {@code AIRTABLE_TABLE} in the environment,
 * or else from a {@code .env} file in the working directory ({@code KEY=value} lines). The archive
 * is on when all three are set. {@code AIRTABLE_API_URL} and {@code AIRTABLE_CONTENT_URL} point it
 * elsewhere than {@code https://api.airtable.com} and {@code https://content.airtable.com} (the
 * Airtable emulator of {@code ./kiln emulate}); {@code AIRTABLE_RATE_LIMIT_WAIT} is how long it
 * waits after a 429 (Airtable: 30 s).
 */
record AirtableSettings(String token, String baseId, String table, String apiUrl, String contentUrl, Duration rateLimitWait) {
    static final String DEFAULT_API = "https://api.airtable.com";
    static final String DEFAULT_CONTENT = "https://content.airtable.com";

    boolean enabled() {
        return token != null && baseId != null && table != null;
    }

    static AirtableSettings from(Environment env, Path dotEnv) {
        Map<String, String> file = readDotEnv(dotEnv);
        java.util.function.Function<String, String> get = k -> {
            String v = env.getProperty(k);
            if (v == null || v.isBlank()) v = file.get(k);
            return v == null || v.isBlank() ? null : v.strip();
        };
        String wait = get.apply("AIRTABLE_RATE_LIMIT_WAIT");
        return new AirtableSettings(get.apply("AIRTABLE_TOKEN"), get.apply("AIRTABLE_BASE_ID"), get.apply("AIRTABLE_TABLE"),
                trim(orDefault(get.apply("AIRTABLE_API_URL"), DEFAULT_API)), trim(orDefault(get.apply("AIRTABLE_CONTENT_URL"), DEFAULT_CONTENT)),
                wait == null ? Duration.ofSeconds(30) : org.springframework.boot.convert.DurationStyle.detectAndParse(wait));
    }

    /** {@code KEY=value} lines as dotenv writes them: blank lines and {@code #} comments skipped, quotes around a value removed. */
    static Map<String, String> readDotEnv(Path file) {
        Map<String, String> out = new LinkedHashMap<>();
        if (file == null || !Files.isRegularFile(file)) return out;
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#")) continue;
                if (l.startsWith("export ")) l = l.substring(7).strip();
                int eq = l.indexOf('=');
                if (eq <= 0) continue;
                String v = l.substring(eq + 1).strip();
                if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
                    v = v.substring(1, v.length() - 1);
                } else {
                    int hash = v.indexOf(" #");
                    if (hash >= 0) v = v.substring(0, hash).strip();
                }
                out.put(l.substring(0, eq).strip(), v);
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    private static String orDefault(String v, String d) {
        return v == null ? d : v;
    }

    private static String trim(String url) {
        return url.replaceAll("/+$", "");
    }

    @Override
    public String toString() {
        return "AirtableSettings[base=" + baseId + ", table=" + table + ", api=" + apiUrl + "]";
    }
}

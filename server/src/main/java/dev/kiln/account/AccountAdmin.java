package dev.kiln.account;

import dev.kiln.provider.Providers;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import dev.kiln.support.KilnException;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Service;
import tools.jackson.databind.JsonNode;

/** Adding, checking, enabling and disabling provider accounts (the admin API's side of the pool). */
@Service
public class AccountAdmin {
    private final AccountStore store;
    private final AccountHealth health;
    private final Providers providers;
    private final Clock clock;

    AccountAdmin(AccountStore store, AccountHealth health, Providers providers, Clock clock) {
        this.store = store;
        this.health = health;
        this.providers = providers;
        this.clock = clock;
    }

    public List<Account> list() {
        return store.list();
    }

    public Account get(String id) {
        return store.find(id).orElseThrow(() -> KilnException.notFound("account", id));
    }

    /**
     * Adds an account from {@code {"provider","label","base_url","secret","config":{…},"max_concurrency","rate_per_minute"}};
     * its secret is stored encrypted, and it is health-checked at once (it becomes {@code ready} only if that passes).
     */
    public Account add(JsonNode body) {
        List<FieldError> errors = new ArrayList<>();
        if (body == null || !body.isObject()) throw KilnException.validation("", "the body must be a JSON object");
        for (String f : body.propertyNames()) {
            if (!List.of("provider", "label", "base_url", "secret", "config", "max_concurrency", "rate_per_minute").contains(f)) {
                errors.add(new FieldError(f, "unknown field"));
            }
        }
        String provider = text(body, "provider", true, errors);
        if (provider != null && (provider.equals("sandbox") || providers.find(provider).isEmpty())) {
            errors.add(new FieldError("provider", "must be one of " + providers.ids().stream().filter(p -> !p.equals("sandbox")).toList()));
        }
        String label = text(body, "label", true, errors);
        if (label != null && !label.matches("[A-Za-z0-9 ._-]{1,100}")) errors.add(new FieldError("label", "1 to 100 letters, digits, spaces, '.', '_' or '-'"));
        String baseUrl = text(body, "base_url", true, errors);
        if (baseUrl != null) {
            try {
                URI u = URI.create(baseUrl);
                if (u.getHost() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) throw new IllegalArgumentException();
            } catch (RuntimeException e) {
                errors.add(new FieldError("base_url", "must be an absolute http(s) URL"));
            }
        }
        String secret = text(body, "secret", false, errors);
        Map<String, String> config = new LinkedHashMap<>();
        JsonNode c = body.get("config");
        if (c != null && !c.isNull()) {
            if (!c.isObject()) errors.add(new FieldError("config", "must be an object of strings"));
            else c.properties().forEach(e -> {
                if (!e.getValue().isValueNode()) errors.add(new FieldError("config." + e.getKey(), "must be a string"));
                else config.put(e.getKey(), e.getValue().asString());
            });
        }
        // Settings the account leaves out take the provider's defaults, as environment accounts do.
        if (provider != null) providers.settingDefaults(provider).forEach(config::putIfAbsent);
        int concurrency = integer(body, "max_concurrency", 4, 1, 10_000, errors);
        int rate = integer(body, "rate_per_minute", 60, 1, 10_000_000, errors);
        if (!errors.isEmpty()) throw KilnException.validation(errors);
        if (store.findByLabel(provider, label).isPresent()) {
            throw KilnException.conflict("provider " + provider + " already has an account labelled '" + label + "'");
        }
        Account a = store.insertStored(new AccountStore.Definition(provider, label, "admin", baseUrl.replaceAll("/+$", ""), secret,
                config, false, concurrency, rate), clock.instant());
        return health.check(a);
    }

    /**
     * What the account's last health check found it can run (for ComfyUI, a summary of its
     * {@code /object_info}), or null when none could tell; see {@link AccountCapabilities}.
     */
    public JsonNode capabilities(String id) {
        return store.capabilities(get(id).id());
    }

    /** Runs a health check now; a disabled account must be enabled first. */
    public Account check(String id) {
        Account a = get(id);
        if (a.state() == AccountState.DISABLED) {
            throw new KilnException(ErrorCode.CONFLICT, "account " + id + " is disabled; enable it to check it");
        }
        return health.check(a);
    }

    /** Enables a disabled account: it goes through a health check, never straight to ready. */
    public Account enable(String id) {
        Account a = get(id);
        if (a.state() != AccountState.DISABLED) return a;
        return health.check(a);
    }

    /** Takes an account out of the pool; jobs running on it finish, no new ones go to it. */
    public Account disable(String id) {
        Account a = get(id);
        if (a.state() == AccountState.DISABLED) return a;
        if (!store.transition(a, AccountState.DISABLED, a.lastError(), clock.instant())) {
            throw KilnException.conflict("account " + id + " changed meanwhile; try again");
        }
        return get(id);
    }

    private static String text(JsonNode body, String f, boolean required, List<FieldError> errors) {
        JsonNode n = body.get(f);
        if (n == null || n.isNull()) {
            if (required) errors.add(new FieldError(f, "is required"));
            return null;
        }
        if (!n.isString() || n.asString().isBlank()) {
            errors.add(new FieldError(f, "must be a non-empty string"));
            return null;
        }
        return n.asString().trim();
    }

    private static int integer(JsonNode body, String f, int def, int min, int max, List<FieldError> errors) {
        JsonNode n = body.get(f);
        if (n == null || n.isNull()) return def;
        if (!n.isIntegralNumber() || n.asLong() < min || n.asLong() > max) {
            errors.add(new FieldError(f, "must be an integer between " + min + " and " + max));
            return def;
        }
        return n.asInt();
    }
}

package dev.kiln.account;

import dev.kiln.provider.ProviderDescriptor;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The accounts configured in the environment (README, "Configuration"): one per provider whose
 * key is set, each at its {@code *_BASE_URL}, with the variables its {@link ProviderDescriptor}
 * names. Their secrets stay in memory; their rows keep state and counters.
 */
@Component
public class EnvAccounts {
    private static final Logger log = LoggerFactory.getLogger(EnvAccounts.class);
    private final List<String> configuredProviders;

    EnvAccounts(Environment env, List<ProviderDescriptor> descriptors, AccountStore store, Clock clock) {
        List<String> ids = new ArrayList<>();
        for (AccountStore.Definition d : definitions(env::getProperty, descriptors)) {
            store.upsertRuntime(d, clock.instant());
            ids.add(d.provider());
            log.info("provider {} configured from the environment at {}", d.provider(), d.baseUrl());
        }
        this.configuredProviders = List.copyOf(ids);
    }

    /** The providers with an account from the environment. */
    public List<String> configuredProviders() {
        return configuredProviders;
    }

    static List<AccountStore.Definition> definitions(UnaryOperator<String> env, List<ProviderDescriptor> descriptors) {
        List<AccountStore.Definition> out = new ArrayList<>();
        for (ProviderDescriptor p : descriptors) {
            AccountStore.Definition d = definition(env, p);
            if (d != null) out.add(d);
        }
        return out;
    }

    /** The provider's account from the environment, or null when its key (or URL) or a required setting is unset. */
    static AccountStore.Definition definition(UnaryOperator<String> env, ProviderDescriptor p) {
        ProviderDescriptor.Env e = p.env();
        String key = null;
        if (e.keyVariable() != null) {
            key = env.apply(e.keyVariable());
            if (!present(key)) return null;
            key = key.trim();
        }
        String baseUrl = env.apply(e.baseUrlVariable());
        if (!present(baseUrl)) {
            if (e.defaultBaseUrl() == null) return null;
            baseUrl = e.defaultBaseUrl();
        }
        Map<String, String> config = new LinkedHashMap<>();
        for (ProviderDescriptor.Setting s : p.settings()) {
            String v = env.apply(s.variable());
            if (present(v)) {
                config.put(s.key(), v.trim());
            } else if (s.required()) {
                return null;
            } else if (s.defaultValue() != null) {
                config.put(s.key(), s.defaultValue());
            }
        }
        return new AccountStore.Definition(p.id(), "env", "env", trim(baseUrl), key, config, false,
                intProp(env, e.maxConcurrencyVariable(), e.limits().maxConcurrency()),
                intProp(env, e.ratePerMinuteVariable(), e.limits().ratePerMinute()));
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }

    private static String trim(String url) {
        return url.trim().replaceAll("/+$", "");
    }

    private static int intProp(UnaryOperator<String> env, String name, int def) {
        String v = env.apply(name);
        if (!present(v)) return def;
        try {
            int i = Integer.parseInt(v.trim());
            if (i < 1) throw new NumberFormatException();
            return i;
        } catch (NumberFormatException e) {
            throw new IllegalStateException(name + " must be a positive integer, got '" + v + "'");
        }
    }
}

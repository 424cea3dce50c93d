package dev.kiln.account;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The accounts configured in the environment (SPEC §3): one per provider whose key is set, each
 * at its {@code *_BASE_URL}. Their secrets stay in memory; their rows keep state and counters.
 */
@Component
public class EnvAccounts {
    private static final Logger log = LoggerFactory.getLogger(EnvAccounts.class);
    private final List<String> configuredProviders;

    EnvAccounts(Environment env, AccountStore store, Clock clock) {
        List<AccountStore.Definition> defs = definitions(env);
        List<String> ids = new ArrayList<>();
        for (AccountStore.Definition d : defs) {
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

    static List<AccountStore.Definition> definitions(Environment env) {
        List<AccountStore.Definition> out = new ArrayList<>();
        String ws = env.getProperty("WAVESPEED_API_KEY");
        if (present(ws)) {
            out.add(new AccountStore.Definition("wavespeed", "env", "env",
                    trim(env.getProperty("WAVESPEED_BASE_URL", "https://api.wavespeed.ai")), ws.trim(),
                    config(env, "webhook_secret", "WAVESPEED_WEBHOOK_SECRET"), false,
                    intProp(env, "WAVESPEED_MAX_CONCURRENCY", 2), intProp(env, "WAVESPEED_RATE_PER_MINUTE", 50)));
        }
        String rep = env.getProperty("REPLICATE_API_TOKEN");
        if (present(rep)) {
            out.add(new AccountStore.Definition("replicate", "env", "env",
                    trim(env.getProperty("REPLICATE_BASE_URL", "https://api.replicate.com/v1")), rep.trim(),
                    config(env, "webhook_secret", "REPLICATE_WEBHOOK_SECRET"), false,
                    intProp(env, "REPLICATE_MAX_CONCURRENCY", 20), intProp(env, "REPLICATE_RATE_PER_MINUTE", 600)));
        }
        String fal = env.getProperty("FAL_KEY");
        if (present(fal)) {
            out.add(new AccountStore.Definition("fal", "env", "env",
                    trim(env.getProperty("FAL_BASE_URL", "https://queue.fal.run")), fal.trim(),
                    Map.of("jwks_url", env.getProperty("FAL_JWKS_URL", "https://rest.alpha.fal.ai/.well-known/jwks.json")),
                    false, intProp(env, "FAL_MAX_CONCURRENCY", 10), intProp(env, "FAL_RATE_PER_MINUTE", 600)));
        }
        String rp = env.getProperty("RUNPOD_API_KEY");
        if (present(rp) && present(env.getProperty("RUNPOD_ENDPOINT_ID"))) {
            Map<String, String> c = new LinkedHashMap<>();
            c.put("endpoint_id", env.getProperty("RUNPOD_ENDPOINT_ID").trim());
            c.put("rest_url", env.getProperty("RUNPOD_REST_URL", "https://rest.runpod.io/v1"));
            out.add(new AccountStore.Definition("runpod", "env", "env",
                    trim(env.getProperty("RUNPOD_BASE_URL", "https://api.runpod.ai/v2")), rp.trim(), c, false,
                    intProp(env, "RUNPOD_MAX_CONCURRENCY", 10), intProp(env, "RUNPOD_RATE_PER_MINUTE", 600)));
        }
        String comfy = env.getProperty("COMFYUI_URL");
        if (present(comfy)) {
            out.add(new AccountStore.Definition("comfyui", "env", "env", trim(comfy), null, Map.of(), false,
                    intProp(env, "COMFYUI_MAX_CONCURRENCY", 2), intProp(env, "COMFYUI_RATE_PER_MINUTE", 600)));
        }
        return out;
    }

    private static Map<String, String> config(Environment env, String key, String var) {
        String v = env.getProperty(var);
        return present(v) ? Map.of(key, v.trim()) : Map.of();
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }

    private static String trim(String url) {
        return url.trim().replaceAll("/+$", "");
    }

    private static int intProp(Environment env, String name, int def) {
        String v = env.getProperty(name);
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

package dev.kiln.provider;

import java.util.List;

/**
 * Everything Kiln knows about one provider apart from its protocol: its adapters, the environment
 * variables that configure an account of it, its default base URL and limits, the account settings
 * it reads, and the emulator that stands in for it in the sandbox. Each provider's folder
 * ({@code provider/<name>/}) has one implementation, registered as a Spring component; the adapter
 * registry, the environment accounts and the sandbox loop over these (docs/ADDING-A-PROVIDER.md).
 */
public interface ProviderDescriptor {

    /** The provider id accounts and catalogue bindings name, e.g. {@code wavespeed}. */
    String id();

    /** The adapters this provider brings (usually one, answering to {@link #id()}), each on the shared transport. */
    List<Provider> adapters(ProviderHttp http);

    /** How an account of this provider is configured from the environment. */
    Env env();

    /** Account settings ({@link ProviderAccount#config()}) this provider reads, with their environment variables. */
    List<Setting> settings();

    /** How the sandbox stands in for this provider, or null when it has no emulator. */
    Sandbox sandbox();

    /**
     * Whether a catalogue binding of this provider must name a remote model; not where the
     * binding's input is the whole job (a ComfyUI workflow).
     */
    default boolean bindingsNeedRemote() {
        return true;
    }

    /**
     * The environment of one provider: {@code <prefix>_BASE_URL}, {@code <prefix>_MAX_CONCURRENCY},
     * {@code <prefix>_RATE_PER_MINUTE}, and the variable holding its key. An account is configured when
     * the key (or, for a provider without keys, the base URL) and every required setting is set.
     *
     * @param prefix the variables' prefix, e.g. {@code WAVESPEED}
     * @param keyVariable the variable holding the API key, or null when the provider takes none
     * @param baseUrlVariable the variable holding the base URL
     * @param defaultBaseUrl the base URL when the variable is unset, or null when it must be set
     * @param limits the account's limits when their variables are unset
     */
    record Env(String prefix, String keyVariable, String baseUrlVariable, String defaultBaseUrl, Limits limits) {

        /** A keyed provider with the usual {@code <prefix>_BASE_URL}. */
        public static Env keyed(String prefix, String keyVariable, String defaultBaseUrl, Limits limits) {
            return new Env(prefix, keyVariable, prefix + "_BASE_URL", defaultBaseUrl, limits);
        }

        public String maxConcurrencyVariable() {
            return prefix + "_MAX_CONCURRENCY";
        }

        public String ratePerMinuteVariable() {
            return prefix + "_RATE_PER_MINUTE";
        }
    }

    /** How many jobs an account runs at once, and how many requests it may send a minute. */
    record Limits(int maxConcurrency, int ratePerMinute) {
        public Limits {
            if (maxConcurrency < 1 || ratePerMinute < 1) throw new IllegalArgumentException("limits must be positive");
        }
    }

    /**
     * One account setting: its key in {@link ProviderAccount#config()}, the environment variable it
     * comes from, its value when that is unset (null: none), and whether an account needs it.
     */
    record Setting(String key, String variable, String defaultValue, boolean required) {
        public static Setting optional(String key, String variable) {
            return new Setting(key, variable, null, false);
        }

        public static Setting withDefault(String key, String variable, String defaultValue) {
            return new Setting(key, variable, defaultValue, false);
        }

        public static Setting required(String key, String variable) {
            return new Setting(key, variable, null, true);
        }
    }

    /**
     * The sandbox's stand-in: the emulated service to start (its folder under
     * {@code dev.kiln.emulator}) and the provider ids that get an account on it. The account's key
     * and base URL are the emulator's; its settings are those of the emulator's settings this
     * provider reads ({@link #settings()}).
     */
    record Sandbox(String service, List<String> providerIds) {
        public Sandbox {
            providerIds = List.copyOf(providerIds);
        }
    }
}

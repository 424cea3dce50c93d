package dev.kiln.account;

import dev.kiln.support.SecretBox;
import dev.kiln.config.KilnProperties;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Builds account-package objects for tests in other packages. */
public final class AccountFixtures {
    private AccountFixtures() {}

    public static KilnProperties props(Path dataDir) {
        return new KilnProperties(dataDir, null, null, null, null, KilnProperties.SandboxMode.AUTO, Duration.ofSeconds(2), 0,
                true, Duration.ofMinutes(20), 1000, null, Duration.ofSeconds(30), null, "local", null,
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
    }

    public static AccountStore store(JdbcClient jdbc, Path dataDir) {
        return new AccountStore(jdbc, new SecretBox(props(dataDir)));
    }

    /** A ready account with the given concurrency. */
    public static Account ready(AccountStore store, String provider, String label, int maxConcurrency) {
        Account a = store.upsertRuntime(new AccountStore.Definition(provider, label, "sandbox", "http://127.0.0.1:1", "key",
                Map.of(), true, maxConcurrency, 100_000), Clock.systemUTC().instant());
        store.transition(a, AccountState.CHECKING, null, Clock.systemUTC().instant());
        a = store.find(a.id()).orElseThrow();
        store.transition(a, AccountState.READY, null, Clock.systemUTC().instant());
        return store.find(a.id()).orElseThrow();
    }
}

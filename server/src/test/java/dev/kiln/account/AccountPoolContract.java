package dev.kiln.account;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.config.KilnProperties;
import dev.kiln.emulator.wavespeed.WaveSpeedEmulator;
import dev.kiln.provider.ProviderHttp;
import dev.kiln.provider.Providers;
import dev.kiln.provider.wavespeed.WaveSpeedConfig;
import dev.kiln.provider.wavespeed.WaveSpeedProvider;
import dev.kiln.support.SecretBox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The account pool and its health state machine, on a real database and a real (emulated) provider. */
abstract class AccountPoolContract {
    HikariDataSource ds;
    JdbcClient jdbc;
    AccountStore store;
    AccountPool pool;
    AccountHealth health;
    WaveSpeedEmulator emulator;
    final Clock clock = Clock.systemUTC();

    abstract HikariDataSource dataSource();

    @BeforeEach
    void setUp() throws Exception {
        ds = dataSource();
        jdbc = JdbcClient.create(ds);
        Path dir = Files.createTempDirectory("kiln-pool");
        KilnProperties props = AccountFixtures.props(dir);
        store = new AccountStore(jdbc, new SecretBox(props));
        pool = new AccountPool(store, props, clock);
        emulator = WaveSpeedEmulator.start(WaveSpeedEmulator.Config.defaults().withApiKey("good-key"));
        Providers providers = new Providers(List.of(new WaveSpeedProvider(new ProviderHttp(), WaveSpeedConfig.defaults("wavespeed"))));
        health = new AccountHealth(store, providers, pool, new AccountCapabilities(store, providers), clock);
    }

    @AfterEach
    void tearDown() {
        emulator.close();
        ds.close();
    }

    Account add(String label, String key, int concurrency, int rate) {
        Account a = store.insertStored(new AccountStore.Definition("wavespeed", label, "admin", emulator.baseUrl(), key, Map.of(), false,
                concurrency, rate), clock.instant());
        return health.check(a);
    }

    @Test
    void anAccountIsReadyOnlyAfterAPassingHealthCheck() {
        Account good = add("good", "good-key", 2, 100);
        Account bad = add("bad", "wrong-key", 2, 100);
        assertThat(good.state()).isEqualTo(AccountState.READY);
        assertThat(bad.state()).isEqualTo(AccountState.FAILED);
        assertThat(bad.lastError()).isNotBlank();
    }

    @Test
    void forbiddenTransitionsAreRefused() {
        Account bad = add("bad", "wrong-key", 2, 100);
        assertThatThrownBy(() -> store.transition(bad, AccountState.READY, null, clock.instant()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("cannot go from failed to ready");
        Account pending = store.insertStored(new AccountStore.Definition("wavespeed", "new", "admin", emulator.baseUrl(), "good-key",
                Map.of(), false, 1, 1), clock.instant());
        assertThatThrownBy(() -> store.transition(pending, AccountState.READY, null, clock.instant())).isInstanceOf(IllegalStateException.class);
        assertThat(AccountState.DISABLED.canBecome(AccountState.READY)).isFalse();
        assertThat(AccountState.DISABLED.canBecome(AccountState.CHECKING)).isTrue();
        assertThat(AccountState.READY.canBecome(AccountState.DISABLED)).isTrue();
    }

    @Test
    void aFailedAccountComesBackOnlyThroughAHealthCheck() {
        Account a = add("flaky", "wrong-key", 2, 100);
        assertThat(a.state()).isEqualTo(AccountState.FAILED);
        jdbc.sql("UPDATE accounts SET secret = ? WHERE id = ?").params(new SecretBox(AccountFixtures.props(Path.of("/tmp"))).seal("good-key"), a.id()).update();
        Account back = health.check(store.find(a.id()).orElseThrow());
        assertThat(back.state()).isEqualTo(AccountState.READY);
    }

    @Test
    void picksTheLeastLoadedReadyAccount() {
        Account a = add("a", "good-key", 4, 1000);
        Account b = add("b", "good-key", 4, 1000);
        store.tryAcquireSlot(a.id(), clock.instant());
        store.tryAcquireSlot(a.id(), clock.instant());
        AccountPool.Cycle c = pool.cycle();
        assertThat(c.choose("wavespeed").account().id()).isEqualTo(b.id());
        assertThat(c.choose("wavespeed").account().id()).isEqualTo(b.id());
        // Now both have two in flight (b by this cycle's own choices): either may come next, but never past the cap.
        int chosen = 0;
        while (c.choose("wavespeed").outcome() == AccountPool.Outcome.CHOSEN) chosen++;
        assertThat(chosen).isEqualTo(4);
        assertThat(c.choose("wavespeed").outcome()).isEqualTo(AccountPool.Outcome.BUSY);
    }

    @Test
    void aRateLimitedAccountCoolsDownForRetryAfterAndOthersTakeOver() {
        Account a = add("a", "good-key", 4, 1000);
        Account b = add("b", "good-key", 4, 1000);
        pool.rateLimited(a.id(), Duration.ofSeconds(30));
        AccountPool.Cycle c = pool.cycle();
        for (int i = 0; i < 3; i++) assertThat(c.choose("wavespeed").account().id()).isEqualTo(b.id());
        pool.rateLimited(b.id(), Duration.ofSeconds(2));
        AccountPool.Choice none = pool.cycle().choose("wavespeed");
        assertThat(none.outcome()).isEqualTo(AccountPool.Outcome.BUSY);
        assertThat(none.retryAt()).isBetween(clock.instant().plusSeconds(1), clock.instant().plusSeconds(3));
        Instant stored = store.find(a.id()).orElseThrow().cooldownUntil();
        assertThat(stored).as("the cooldown is in the database, shared by every instance").isAfter(clock.instant().plusSeconds(25));
    }

    @Test
    void theRateLimitIsEnforcedPerAccount() {
        add("slow", "good-key", 100, 3);
        AccountPool.Cycle c = pool.cycle();
        for (int i = 0; i < 3; i++) assertThat(c.choose("wavespeed").outcome()).isEqualTo(AccountPool.Outcome.CHOSEN);
        AccountPool.Choice busy = c.choose("wavespeed");
        assertThat(busy.outcome()).isEqualTo(AccountPool.Outcome.BUSY);
        assertThat(busy.retryAt()).isAfter(clock.instant().plusSeconds(10));
    }

    @Test
    void oneFailureDoesNotFailAnAccountButSeveralInAWindowSendItToAHealthCheck() {
        Account a = add("a", "good-key", 4, 1000);
        pool.failed(a.id(), "HTTP 500");
        pool.failed(a.id(), "HTTP 500");
        assertThat(store.find(a.id()).orElseThrow().state()).isEqualTo(AccountState.READY);
        jdbc.sql("UPDATE accounts SET secret = ? WHERE id = ?").params(new SecretBox(AccountFixtures.props(Path.of("/tmp"))).seal("revoked"), a.id()).update();
        pool.failed(a.id(), "HTTP 401");
        Account now = store.find(a.id()).orElseThrow();
        assertThat(now.state()).isEqualTo(AccountState.CHECKING);
        health.checkDue();
        assertThat(store.find(a.id()).orElseThrow().state()).isEqualTo(AccountState.FAILED);
    }

    @Test
    void failuresOutsideTheWindowDoNotAddUp() {
        Account a = add("a", "good-key", 4, 1000);
        pool.failed(a.id(), "x");
        pool.failed(a.id(), "x");
        jdbc.sql("UPDATE accounts SET failure_window_start = ? WHERE id = ?")
                .params(dev.kiln.db.Db.ts(clock.instant().minus(Duration.ofMinutes(5))), a.id()).update();
        pool.failed(a.id(), "x");
        assertThat(store.find(a.id()).orElseThrow().state()).isEqualTo(AccountState.READY);
        assertThat(store.find(a.id()).orElseThrow().recentFailures()).isEqualTo(1);
    }

    @Test
    void secretsAreEncryptedAtRest() {
        Account a = add("a", "super-secret-key-123", 1, 1);
        String raw = jdbc.sql("SELECT secret FROM accounts WHERE id = ?").param(a.id()).query(String.class).single();
        assertThat(raw).startsWith("v1:").doesNotContain("super-secret-key-123");
        assertThat(store.find(a.id()).orElseThrow().secret()).isEqualTo("super-secret-key-123");
    }

    @Test
    void aDisabledAccountGetsNoWork() {
        Account a = add("a", "good-key", 4, 1000);
        store.transition(a, AccountState.DISABLED, null, clock.instant());
        assertThat(pool.cycle().choose("wavespeed").outcome()).isEqualTo(AccountPool.Outcome.NONE_READY);
        assertThat(pool.serves("wavespeed")).isFalse();
    }
}

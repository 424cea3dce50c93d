package dev.kiln.user;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.testing.TestDatabases;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Sessions end after their time, revoked credentials are gone at once; on H2 and PostgreSQL. */
class CredentialsTest {
    /** A clock the test moves. */
    static final class Moving extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void aSessionLastsItsTimeAndARevokedKeyNothing(String db) {
        Supplier<HikariDataSource> ds = db.equals("h2") ? TestDatabases::h2 : TestDatabases::pg;
        try (HikariDataSource d = ds.get()) {
            JdbcClient jdbc = JdbcClient.create(d);
            Moving clock = new Moving();
            AuthProperties props = new AuthProperties("on", null, BigDecimal.TEN, List.of(), null, Duration.ofHours(24), null);
            new UserStore(jdbc).insert(new User("usr_t", "t", User.USER, null, null, null, false, clock.instant()), null);
            Credentials credentials = new Credentials(jdbc, props, clock);

            Credentials.Issued session = credentials.openSession("usr_t");
            Credentials.Issued key = credentials.createApiKey("usr_t", "ci");
            assertThat(credentials.find(session.secret())).get().extracting(f -> f.credential().kind()).isEqualTo(Credentials.SESSION);
            assertThat(credentials.find(key.secret())).get().extracting(Credentials.Found::role).isEqualTo(User.USER);
            assertThat(credentials.find(session.secret() + "x")).isEmpty();

            clock.now = clock.now.plus(Duration.ofHours(24)).minusSeconds(1);
            assertThat(credentials.find(session.secret())).isPresent();
            clock.now = clock.now.plusSeconds(2);
            assertThat(credentials.find(session.secret())).isEmpty();
            // API keys do not expire; revoked, they are refused at once.
            assertThat(credentials.find(key.secret())).isPresent();
            assertThat(credentials.revoke(key.credential().id())).isTrue();
            assertThat(credentials.find(key.secret())).isEmpty();
            assertThat(credentials.revoke(key.credential().id())).isFalse();
            // Only hashes are stored.
            assertThat(jdbc.sql("SELECT COUNT(*) FROM credentials WHERE token_hash = ? OR token_hash = ?")
                    .params(session.secret(), key.secret()).query(Long.class).single()).isZero();
            // Sessions that ended more than a day ago are purged.
            clock.now = clock.now.plus(Duration.ofDays(2));
            assertThat(credentials.purgeEnded()).isEqualTo(1);
        }
    }
}

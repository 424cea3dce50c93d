package dev.kiln.credit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import java.math.BigDecimal;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** The ledger against a real database (H2 and PostgreSQL subclasses): reservations race, settlements, grants, the books. */
abstract class LedgerContract {
    HikariDataSource ds;
    Ledger ledger;
    TransactionTemplate tx;

    abstract HikariDataSource dataSource();

    @BeforeEach
    void setUp() {
        ds = dataSource();
        ledger = new Ledger(JdbcClient.create(ds), new JdbcTemplate(ds), Clock.systemUTC());
        tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
    }

    @AfterEach
    void tearDown() {
        assertThat(ledger.audit().balanced()).as("%s", ledger.audit()).isTrue();
        ds.close();
    }

    private void reserve(String user, boolean overdraw, Ledger.Hold... holds) {
        tx.executeWithoutResult(s -> ledger.reserve(user, List.of(holds), overdraw));
    }

    private void settle(String job, boolean succeeded) {
        tx.executeWithoutResult(s -> ledger.settle(job, succeeded));
    }

    private static Ledger.Hold hold(String job, int amount) {
        return new Ledger.Hold(job, BigDecimal.valueOf(amount));
    }

    @Test
    void concurrentReservationsTakeExactlyTheBalance() throws Exception {
        ledger.open("usr_a", BigDecimal.valueOf(50), "start");
        List<Future<Boolean>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < 160; i++) {
                String job = "job_" + i;
                results.add(pool.submit(() -> {
                    try {
                        reserve("usr_a", false, hold(job, 1));
                        return true;
                    } catch (KilnException e) {
                        assertThat(e.code()).isEqualTo(ErrorCode.INSUFFICIENT_CREDITS);
                        return false;
                    }
                }));
            }
        }
        int taken = 0;
        for (Future<Boolean> f : results) if (f.get()) taken++;
        assertThat(taken).isEqualTo(50);
        assertThat(ledger.balance("usr_a")).isEqualByComparingTo("0");
        assertThat(ledger.reserved("usr_a")).isEqualByComparingTo("50");
        assertThat(ledger.audit().accounts().get(Ledger.RESERVED)).isEqualByComparingTo("50");
    }

    @Test
    void aRefusedReservationWritesNothing() {
        ledger.open("usr_b", BigDecimal.valueOf(3), "start");
        assertThatThrownBy(() -> reserve("usr_b", false, hold("job_1", 2), hold("job_2", 2)))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INSUFFICIENT_CREDITS));
        assertThat(ledger.balance("usr_b")).isEqualByComparingTo("3");
        assertThat(ledger.statement("usr_b", 10)).hasSize(1);
        // An admin may overdraw.
        reserve("usr_b", true, hold("job_1", 2), hold("job_2", 2));
        assertThat(ledger.balance("usr_b")).isEqualByComparingTo("-1");
    }

    @Test
    void successCapturesAndEverythingElseReleasesOnce() {
        ledger.open("usr_c", BigDecimal.valueOf(10), "start");
        reserve("usr_c", false, hold("job_ok", 3), hold("job_bad", 4));
        assertThat(ledger.balance("usr_c")).isEqualByComparingTo("3");
        settle("job_ok", true);
        settle("job_bad", false);
        // A second settlement of either finds nothing held.
        settle("job_ok", false);
        settle("job_bad", true);
        settle("job_none", true);
        assertThat(ledger.balance("usr_c")).isEqualByComparingTo("7");
        assertThat(ledger.reserved("usr_c")).isEqualByComparingTo("0");
        Ledger.Audit a = ledger.audit();
        assertThat(a.accounts().get(Ledger.SPENT)).isEqualByComparingTo("3");
        assertThat(a.accounts().get(Ledger.RESERVED)).isEqualByComparingTo("0");
        assertThat(a.accounts().get(Ledger.GRANTED)).isEqualByComparingTo("-10");
        assertThat(ledger.statement("usr_c", 10)).extracting(Ledger.Entry::kind).containsExactly("release", "reserve", "reserve", "start");
    }

    @Test
    void grantsAddAndCorrectionsNeverGoBelowZero() {
        ledger.open("usr_d", BigDecimal.ZERO, "start");
        assertThat(ledger.grant("usr_d", new BigDecimal("12.5"), "gift")).isEqualByComparingTo("12.5");
        assertThat(ledger.grant("usr_d", new BigDecimal("-2.5"), "fix")).isEqualByComparingTo("10");
        assertThatThrownBy(() -> ledger.grant("usr_d", new BigDecimal("-11"), "too much")).isInstanceOf(KilnException.class);
        assertThat(ledger.balance("usr_d")).isEqualByComparingTo("10");
        assertThat(ledger.audit().accounts().get(Ledger.GRANTED)).isEqualByComparingTo("-10");
    }
}

package dev.kiln.credit;

import static dev.kiln.db.Db.instant;
import static dev.kiln.db.Db.ts;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.Ids;
import dev.kiln.support.KilnException;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

/**
 * The credit ledger, double-entry: every movement writes two entries with one movement id whose
 * amounts sum to zero, so the sum over all entries is zero at all times and every account's
 * balance is the sum of its entries. Accounts are {@code user:<id>}, {@link #RESERVED},
 * {@link #SPENT} and {@link #GRANTED}.
 *
 * <p>A submission {@link #reserve reserves} each job's cost (user → reserved) in the transaction
 * that inserts the jobs; when a job ends, {@link #settle} — called by the job state machine in
 * the transaction of the job's terminal change — captures the hold (reserved → spent) on
 * success or releases it (reserved → user) otherwise. What a job still holds is the sum of its
 * entries on {@code reserved}, so a crash between any two statements cannot unbalance anything:
 * each movement commits with the job change that causes it, or not at all.
 */
@Service
public class Ledger {
    public static final String RESERVED = "reserved";
    public static final String SPENT = "spent";
    public static final String GRANTED = "granted";

    private final JdbcClient jdbc;
    private final JdbcTemplate template;
    private final Clock clock;

    public Ledger(JdbcClient jdbc, JdbcTemplate template, Clock clock) {
        this.jdbc = jdbc;
        this.template = template;
        this.clock = clock;
    }

    public static String userAccount(String userId) {
        return "user:" + userId;
    }

    /** What one job will hold. */
    public record Hold(String jobId, BigDecimal amount) {}

    /** One entry as the API shows it. */
    public record Entry(long id, String movement, String kind, String account, BigDecimal amount, String jobId, String reason,
                        Instant createdAt) {}

    /** Opens a user's account with its first credits (from {@code granted}). */
    @Transactional
    public void open(String userId, BigDecimal credits, String reason) {
        jdbc.sql("INSERT INTO credit_balances (account, balance) VALUES (?, 0)").param(userAccount(userId)).update();
        if (credits.signum() != 0) move("start", GRANTED, userAccount(userId), credits, userId, null, reason);
    }

    /**
     * Reserves the cost of each job (user → reserved) in the caller's transaction.
     *
     * @param overdraw whether the balance may go below zero (admins are never refused for credits)
     * @throws KilnException 402 {@code insufficient_credits} when the total is beyond the balance;
     *                       the caller's transaction must then roll back
     */
    @Transactional(propagation = Propagation.MANDATORY)
    public void reserve(String userId, List<Hold> holds, boolean overdraw) {
        BigDecimal total = holds.stream().map(Hold::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
        if (total.signum() <= 0) return;
        String account = userAccount(userId);
        int taken = jdbc.sql("UPDATE credit_balances SET balance = balance - ? WHERE account = ?"
                        + (overdraw ? "" : " AND balance >= ?"))
                .params(overdraw ? List.of(total, account) : List.of(total, account, total)).update();
        if (taken == 0) throw insufficient(userId, total);
        Instant now = clock.instant();
        List<Row> rows = new ArrayList<>(holds.size() * 2);
        for (Hold h : holds) {
            if (h.amount().signum() == 0) continue;
            String movement = Ids.newId("mov");
            rows.add(new Row(movement, "reserve", account, h.amount().negate(), userId, h.jobId(), null, now));
            rows.add(new Row(movement, "reserve", RESERVED, h.amount(), userId, h.jobId(), null, now));
        }
        insert(rows);
    }

    /** The 402 for a cost beyond the balance, also used before anything is stored. */
    public KilnException insufficient(String userId, BigDecimal cost) {
        BigDecimal balance = balance(userId);
        return new KilnException(ErrorCode.INSUFFICIENT_CREDITS, "this submission costs " + cost.stripTrailingZeros().toPlainString()
                + " credits and the balance is " + balance.stripTrailingZeros().toPlainString(), List.of(), null,
                "Ask an admin for more credits, or submit fewer or cheaper jobs.");
    }

    /** Whether {@code cost} is within the balance now (a check before slow work; {@link #reserve} decides). */
    public boolean covers(String userId, BigDecimal cost) {
        return cost.signum() <= 0 || balance(userId).compareTo(cost) >= 0;
    }

    /**
     * Ends a job's hold, if it has one: captured (reserved → spent) when it succeeded, else
     * released back to its owner. Runs in the transaction of the job's terminal change; the job's
     * row is locked by that change, so no two settlements of one job can interleave.
     */
    @Transactional(propagation = Propagation.MANDATORY)
    public void settle(String jobId, boolean succeeded) {
        List<Map.Entry<String, BigDecimal>> held = jdbc.sql(
                        "SELECT user_id, SUM(amount) AS held FROM credit_entries WHERE job_id = ? AND account = ? GROUP BY user_id")
                .params(jobId, RESERVED).query((rs, n) -> Map.entry(rs.getString("user_id"), rs.getBigDecimal("held"))).list();
        for (Map.Entry<String, BigDecimal> h : held) {
            BigDecimal amount = h.getValue();
            if (amount == null || amount.signum() <= 0) continue;
            if (succeeded) {
                move("capture", RESERVED, SPENT, amount, h.getKey(), jobId, null);
            } else {
                move("release", RESERVED, userAccount(h.getKey()), amount, h.getKey(), jobId, null);
            }
        }
    }

    /**
     * An admin's grant (or, with a negative amount, a correction that takes credits back; it may
     * not leave the balance below zero).
     */
    @Transactional
    public BigDecimal grant(String userId, BigDecimal amount, String reason) {
        String account = userAccount(userId);
        if (amount.signum() < 0) {
            int n = jdbc.sql("UPDATE credit_balances SET balance = balance + ? WHERE account = ? AND balance + ? >= 0")
                    .params(amount, account, amount).update();
            if (n == 0) {
                throw KilnException.validation("amount", "would leave a balance below zero (the balance is "
                        + balance(userId).stripTrailingZeros().toPlainString() + ")");
            }
            entries("grant", account, GRANTED, amount.negate(), userId, null, reason);
        } else {
            move("grant", GRANTED, account, amount, userId, null, reason);
        }
        return balance(userId);
    }

    /** What a user may spend now; zero for one without an account. */
    public BigDecimal balance(String userId) {
        return jdbc.sql("SELECT balance FROM credit_balances WHERE account = ?").param(userAccount(userId))
                .query(BigDecimal.class).optional().orElse(BigDecimal.ZERO);
    }

    /** Balances of many users at once (admin listings). */
    public Map<String, BigDecimal> balances(List<String> userIds) {
        if (userIds.isEmpty()) return Map.of();
        return jdbc.sql("SELECT account, balance FROM credit_balances WHERE account IN (:a)")
                .param("a", userIds.stream().map(Ledger::userAccount).toList())
                .query((rs, n) -> Map.entry(rs.getString("account").substring(5), rs.getBigDecimal("balance"))).list().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    /** What a user's unfinished jobs hold. */
    public BigDecimal reserved(String userId) {
        BigDecimal r = jdbc.sql("SELECT COALESCE(SUM(amount), 0) FROM credit_entries WHERE user_id = ? AND account = ?")
                .params(userId, RESERVED).query(BigDecimal.class).single();
        return r == null ? BigDecimal.ZERO : r;
    }

    /** The newest entries of a user's own account (their statement). */
    public List<Entry> statement(String userId, int limit) {
        return jdbc.sql("SELECT * FROM credit_entries WHERE account = ? ORDER BY id DESC LIMIT ?")
                .params(userAccount(userId), limit)
                .query((rs, n) -> new Entry(rs.getLong("id"), rs.getString("movement"), rs.getString("kind"), rs.getString("account"),
                        rs.getBigDecimal("amount"), rs.getString("job_id"), rs.getString("reason"), instant(rs, "created_at")))
                .list();
    }

    /**
     * The ledger's books checked: the sum over all entries (must be 0), movements whose two
     * entries do not cancel, user balances that differ from the sum of their entries, holds that
     * went negative, and holds still kept by jobs that have finished (each must be 0).
     */
    public record Audit(boolean balanced, BigDecimal total, Map<String, BigDecimal> accounts, long unbalancedMovements,
                        long balanceMismatches, long negativeHolds, long heldByFinishedJobs) {
        static Audit of(BigDecimal total, Map<String, BigDecimal> accounts, long unbalanced, long mismatched, long negative, long finished) {
            boolean ok = total.signum() == 0 && unbalanced == 0 && mismatched == 0 && negative == 0 && finished == 0;
            return new Audit(ok, total.stripTrailingZeros(), accounts, unbalanced, mismatched, negative, finished);
        }
    }

    public Audit audit() {
        BigDecimal total = jdbc.sql("SELECT COALESCE(SUM(amount), 0) FROM credit_entries").query(BigDecimal.class).single();
        Map<String, BigDecimal> accounts = new java.util.TreeMap<>();
        jdbc.sql("SELECT account, SUM(amount) AS s FROM credit_entries WHERE account IN (?, ?, ?) GROUP BY account")
                .params(RESERVED, SPENT, GRANTED)
                .query((java.sql.ResultSet rs) -> { accounts.put(rs.getString("account"), rs.getBigDecimal("s").stripTrailingZeros()); });
        long unbalanced = jdbc.sql("SELECT COUNT(*) FROM (SELECT movement FROM credit_entries GROUP BY movement"
                + " HAVING SUM(amount) <> 0 OR COUNT(*) <> 2) m").query(Long.class).single();
        long mismatched = jdbc.sql("""
                SELECT COUNT(*) FROM credit_balances b
                WHERE b.balance <> (SELECT COALESCE(SUM(e.amount), 0) FROM credit_entries e WHERE e.account = b.account)""")
                .query(Long.class).single();
        long negative = jdbc.sql("SELECT COUNT(*) FROM (SELECT job_id FROM credit_entries WHERE account = ? GROUP BY job_id"
                + " HAVING SUM(amount) < 0) h").param(RESERVED).query(Long.class).single();
        // The jobs table belongs to dev.kiln.job; it is read here only to check the books.
        long finished = jdbc.sql("""
                SELECT COUNT(*) FROM (SELECT job_id, SUM(amount) AS held FROM credit_entries WHERE account = ? GROUP BY job_id) h
                JOIN jobs j ON j.id = h.job_id
                WHERE h.held <> 0 AND j.status IN ('succeeded', 'failed', 'canceled', 'timed_out')""")
                .param(RESERVED).query(Long.class).single();
        return Audit.of(total, accounts, unbalanced, mismatched, negative, finished);
    }

    /** Moves a positive amount from one account to another: two entries, and the balances of user accounts. */
    private void move(String kind, String from, String to, BigDecimal amount, String userId, String jobId, String reason) {
        entries(kind, from, to, amount, userId, jobId, reason);
        for (String account : List.of(from, to)) {
            if (!account.startsWith("user:")) continue;
            BigDecimal delta = account.equals(from) ? amount.negate() : amount;
            jdbc.sql("UPDATE credit_balances SET balance = balance + ? WHERE account = ?").params(delta, account).update();
        }
    }

    private void entries(String kind, String from, String to, BigDecimal amount, String userId, String jobId, String reason) {
        String movement = Ids.newId("mov");
        Instant now = clock.instant();
        insert(List.of(new Row(movement, kind, from, amount.negate(), userId, jobId, reason, now),
                new Row(movement, kind, to, amount, userId, jobId, reason, now)));
    }

    private record Row(String movement, String kind, String account, BigDecimal amount, String userId, String jobId, String reason,
                       Instant at) {}

    private void insert(List<Row> rows) {
        template.batchUpdate("INSERT INTO credit_entries (movement, kind, account, amount, user_id, job_id, reason, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows, 1000, (ps, r) -> {
                    ps.setString(1, r.movement());
                    ps.setString(2, r.kind());
                    ps.setString(3, r.account());
                    ps.setBigDecimal(4, r.amount());
                    ps.setString(5, r.userId());
                    ps.setString(6, r.jobId());
                    ps.setString(7, r.reason());
                    ps.setObject(8, ts(r.at()));
                });
    }
}

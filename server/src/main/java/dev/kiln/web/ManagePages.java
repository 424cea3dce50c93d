package dev.kiln.web;

import dev.kiln.account.Account;
import dev.kiln.account.AccountAdmin;
import dev.kiln.credit.Ledger;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import dev.kiln.user.User;
import dev.kiln.user.Users;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;

/**
 * The admin page ({@code /manage}, admins only): provider accounts with their health, counters
 * and check/enable/disable; queue depth per model with the oldest wait and jobs in flight per
 * provider; users with their credits; recent failures; charts of the last hour.
 */
@Controller
class ManagePages {
    private final AccountAdmin accounts;
    private final Users users;
    private final Ledger ledger;
    private final Charts charts;
    private final JdbcClient jdbc;

    ManagePages(AccountAdmin accounts, Users users, Ledger ledger, Charts charts, JdbcClient jdbc) {
        this.accounts = accounts;
        this.users = users;
        this.ledger = ledger;
        this.charts = charts;
        this.jdbc = jdbc;
    }

    record Queue(String model, long queued, Instant oldest) {}

    record InFlight(String provider, long running) {}

    record UserRow(User user, BigDecimal credits) {}

    record Failure(String jobId, String runId, String model, String provider, String status, String error, Instant at) {}

    @GetMapping("/manage")
    String page(Optional<Caller> caller, Model view) {
        WebAdvice.needAdmin(caller);
        List<Account> list = accounts.list();
        view.addAttribute("accounts", list);
        view.addAttribute("queues", jdbc.sql("SELECT model, COUNT(*), MIN(created_at) FROM jobs WHERE status = 'queued' AND deleted = FALSE "
                + "GROUP BY model ORDER BY model").query((rs, n) -> new Queue(rs.getString(1), rs.getLong(2), rs.getTimestamp(3).toInstant())).list());
        view.addAttribute("inflight", jdbc.sql("SELECT provider, COUNT(*) FROM jobs WHERE status = 'running' AND provider IS NOT NULL "
                + "GROUP BY provider ORDER BY provider").query((rs, n) -> new InFlight(rs.getString(1), rs.getLong(2))).list());
        List<User> people = users.list(null, 100);
        Map<String, BigDecimal> balances = ledger.balances(people.stream().map(User::id).toList());
        view.addAttribute("users", people.stream().map(u -> new UserRow(u, balances.getOrDefault(u.id(), BigDecimal.ZERO))).toList());
        view.addAttribute("failures", jdbc.sql("SELECT id, run_id, model, provider, status, COALESCE(error_code || ': ', '') || COALESCE(error_message, ''), "
                        + "finished_at FROM jobs WHERE status IN ('failed', 'timed_out') AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 20")
                .query((rs, n) -> new Failure(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getString(6), rs.getTimestamp(7).toInstant())).list());
        view.addAttribute("charts", List.of(charts.jobsPerMinute(), charts.providerLatency(), charts.queueDepth()));
        view.addAttribute("now", Instant.now());
        return "web/manage";
    }

    @PostMapping("/manage/accounts/{id}/{action}")
    String act(Optional<Caller> caller, @PathVariable String id, @PathVariable String action) {
        WebAdvice.needAdmin(caller);
        switch (action) {
            case "check" -> accounts.check(id);
            case "enable" -> accounts.enable(id);
            case "disable" -> accounts.disable(id);
            default -> throw KilnException.notFound("action", action);
        }
        return "redirect:/manage#account-" + id;
    }
}

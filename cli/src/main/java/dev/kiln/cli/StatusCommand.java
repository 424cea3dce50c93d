package dev.kiln.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code kiln status RUN...}: a run's state, counts and jobs as tables; the exit code says how it ended. */
@Command(name = "status", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Show runs: status, counts, cost, and their jobs (state, seed, prompt, output or error).",
        footer = {"", "Exit code: 0 every job succeeded, 1 some did, 3 none did, 6 still running (several runs count together);",
                "4 server unreachable, 5 refused (e.g. no such run)."})
final class StatusCommand implements Callable<Integer> {
    private static final int DEFAULT_ROWS = 20;

    @Parameters(arity = "1..*", paramLabel = "RUN|DIR", description = "Run ids, or a batch folder (its manifest lists the runs).")
    List<String> targets;

    @Option(names = {"-a", "--all"}, description = "List every job (default: the first " + DEFAULT_ROWS + ", failures first).")
    boolean all;

    @Mixin
    ServerOptions server;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        List<String> runIds = new ArrayList<>();
        String fallbackUrl = null;
        for (String t : targets) {
            Path p = Path.of(t);
            if (Files.isDirectory(p)) {
                Manifest m = Manifest.load(p);
                if (m == null) throw CliException.usage(t + " holds no manifest.json; give run ids");
                runIds.addAll(m.runs());
                if (fallbackUrl == null) fallbackUrl = m.server();
            } else {
                runIds.add(t);
            }
        }
        Api api = server.api(fallbackUrl);
        List<Wire.Run> runs = new ArrayList<>();
        for (String id : runIds) runs.add(api.get("/v1/runs/" + Api.query(id), Wire.Run.class));
        out.print(render(runs, all));
        out.flush();
        return code(runs);
    }

    /** The runs taken together: still running if any is, else by how many of all their jobs succeeded. */
    static int code(List<Wire.Run> runs) {
        if (runs.stream().anyMatch(r -> "running".equals(r.status()))) return Exit.RUNNING;
        int total = runs.stream().mapToInt(Wire.Run::total).sum();
        int succeeded = runs.stream().mapToInt(r -> r.count("succeeded")).sum();
        return Exit.of(succeeded, total, true);
    }

    /** One row per run (and a total for several), then their jobs: failures first, then in batch order. */
    static String render(List<Wire.Run> runs, boolean all) {
        StringBuilder b = new StringBuilder();
        Table head = new Table(-1, "RUN", "MODEL", "MODE", "STATUS", "JOBS", "SUCCEEDED", "FAILED", "CANCELED", "TIMED OUT", "RUNNING", "QUEUED",
                "ELAPSED", "COST");
        int[] sums = new int[7];
        java.math.BigDecimal cost = java.math.BigDecimal.ZERO;
        List<Wire.Job> jobs = new ArrayList<>();
        for (Wire.Run run : runs) {
            int[] c = {run.total(), run.count("succeeded"), run.count("failed"), run.count("canceled"), run.count("timed_out"),
                    run.count("running"), run.count("queued")};
            for (int i = 0; i < c.length; i++) sums[i] += c[i];
            if (run.cost() != null) cost = cost.add(run.cost());
            head.row(run.id(), run.model(), run.mode(), run.status(), c[0], c[1], c[2], c[3], c[4], c[5], c[6],
                    String.format(Locale.ROOT, "%.1f s", run.elapsedSeconds()), money(run.cost()));
            jobs.addAll(run.jobs());
        }
        if (runs.size() > 1) head.row("(" + runs.size() + " runs)", "", "", "", sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], sums[6], "", money(cost));
        b.append(head.render());
        if (jobs.isEmpty()) return b.toString();
        List<Wire.Job> ordered = new ArrayList<>(jobs.stream().filter(j -> j.terminal() && !"succeeded".equals(j.status())).toList());
        jobs.stream().filter(j -> !ordered.contains(j)).forEach(ordered::add);
        Table t = new Table(4, "#", "JOB", "STATUS", "SEED", "PROMPT / ERROR");
        int shown = all ? ordered.size() : Math.min(DEFAULT_ROWS, ordered.size());
        for (int i = 0; i < shown; i++) {
            Wire.Job j = ordered.get(i);
            String status = j.status() + ("running".equals(j.status()) && j.progress() > 0 ? String.format(Locale.ROOT, " %d%%", Math.round(j.progress() * 100))
                    : "queued".equals(j.status()) && j.queuePosition() != null ? " #" + j.queuePosition() : "");
            String text = j.error() != null ? j.error().code() + ": " + j.error().message() + " — " + j.prompt() : j.prompt();
            t.row(jobs.indexOf(j) + 1, j.id(), status, j.seed(), text);
        }
        b.append('\n').append(t.render());
        if (shown < ordered.size()) b.append("… ").append(ordered.size() - shown).append(" more jobs (--all lists them)\n");
        return b.toString();
    }

    private static String money(java.math.BigDecimal d) {
        return d == null ? "" : d.stripTrailingZeros().toPlainString();
    }
}

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
        footer = {"", "Exit code: 0 succeeded, 1 partial, 3 failed, 6 still running (the least finished of several runs wins);",
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
        int worst = Exit.OK;
        boolean first = true;
        for (String id : runIds) {
            Wire.Run run = api.get("/v1/runs/" + Api.query(id), Wire.Run.class);
            if (!first) out.println();
            first = false;
            out.print(render(run, all));
            worst = worse(worst, code(run.status()));
        }
        out.flush();
        return worst;
    }

    static int code(String status) {
        return switch (status) {
            case "succeeded" -> Exit.OK;
            case "partial" -> Exit.PARTIAL;
            case "failed" -> Exit.FAILED;
            default -> Exit.RUNNING;
        };
    }

    /** Running beats failed beats partial beats succeeded: the code tells the least finished state. */
    static int worse(int a, int b) {
        List<Integer> order = List.of(Exit.OK, Exit.PARTIAL, Exit.FAILED, Exit.RUNNING);
        return order.indexOf(a) >= order.indexOf(b) ? a : b;
    }

    static String render(Wire.Run run, boolean all) {
        StringBuilder b = new StringBuilder();
        Table head = new Table(-1, "RUN", "MODEL", "MODE", "STATUS", "JOBS", "SUCCEEDED", "FAILED", "CANCELED", "TIMED OUT", "RUNNING", "QUEUED",
                "ELAPSED", "COST");
        head.row(run.id(), run.model(), run.mode(), run.status(), run.total(), run.count("succeeded"), run.count("failed"),
                run.count("canceled"), run.count("timed_out"), run.count("running"), run.count("queued"),
                String.format(Locale.ROOT, "%.1f s", run.elapsedSeconds()), run.cost() == null ? "" : run.cost().stripTrailingZeros().toPlainString());
        b.append(head.render());
        List<Wire.Job> jobs = new ArrayList<>(run.jobs());
        if (jobs.isEmpty()) return b.toString();
        // Failures first (what someone running status usually wants to see), then the rest in run order.
        List<Wire.Job> ordered = new ArrayList<>(jobs.stream().filter(j -> j.terminal() && !"succeeded".equals(j.status())).toList());
        jobs.stream().filter(j -> !ordered.contains(j)).forEach(ordered::add);
        Table t = new Table(5, "#", "JOB", "STATUS", "SEED", "OUTPUT", "PROMPT / ERROR");
        int shown = all ? ordered.size() : Math.min(DEFAULT_ROWS, ordered.size());
        for (int i = 0; i < shown; i++) {
            Wire.Job j = ordered.get(i);
            int pos = jobs.indexOf(j) + 1;
            String output = j.outputs().isEmpty() ? "" : j.outputs().getFirst().url() + (j.outputs().size() > 1 ? " +" + (j.outputs().size() - 1) : "");
            String status = j.status() + ("running".equals(j.status()) && j.progress() > 0 ? String.format(Locale.ROOT, " %d%%", Math.round(j.progress() * 100))
                    : "queued".equals(j.status()) && j.queuePosition() != null ? " #" + j.queuePosition() : "");
            String text = j.error() != null ? j.error().code() + ": " + j.error().message() + " — " + j.prompt() : j.prompt();
            t.row(pos, j.id(), status, j.seed(), output, text);
        }
        b.append('\n').append(t.render());
        if (shown < ordered.size()) b.append("… ").append(ordered.size() - shown).append(" more jobs (--all lists them)\n");
        return b.toString();
    }
}

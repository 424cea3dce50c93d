package dev.kiln.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import tools.jackson.databind.JsonNode;

/** {@code kiln models [MODEL]}: the catalogue as a table, or one model's parameters. */
@Command(name = "models", sortOptions = false, mixinStandardHelpOptions = true,
        description = "List the models (id, kind, modes, where they run, cost), or show one model's parameters.")
final class ModelsCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "MODEL", description = "Show this model's modes and parameters.")
    String model;

    @Option(names = "--kind", paramLabel = "KIND", description = "Only image or video models.")
    String kind;

    @Option(names = "--action", paramLabel = "ACTION", description = "Only models for create, edit, upscale or remove_bg.")
    String action;

    @Mixin
    ServerOptions server;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Api api = server.api();
        var out = spec.commandLine().getOut();
        if (model != null) {
            out.print(renderModel(api.get("/v1/models/" + Api.query(model), Wire.Model.class)));
        } else {
            StringBuilder q = new StringBuilder();
            if (kind != null) q.append(q.isEmpty() ? "?" : "&").append("kind=").append(Api.query(kind));
            if (action != null) q.append(q.isEmpty() ? "?" : "&").append("action=").append(Api.query(action));
            out.print(renderList(api.get("/v1/models" + q, Wire.Models.class).items()));
        }
        out.flush();
        return Exit.OK;
    }

    static String renderList(List<Wire.Model> models) {
        Table t = new Table(5, "MODEL", "KIND", "MODES", "RUNS ON", "COST", "DESCRIPTION");
        for (Wire.Model m : models) {
            String runsOn = m.bindings().stream().map(b -> b.provider() + (b.available() ? "" : " (not configured)")).distinct()
                    .collect(Collectors.joining(", "));
            t.row(m.id(), m.kind(), m.modes().stream().map(Wire.Mode::id).collect(Collectors.joining(", ")), runsOn, rule(m.cost()),
                    m.description() == null ? m.name() : m.description());
        }
        return t.isEmpty() ? "no models match\n" : t.render();
    }

    static String renderModel(Wire.Model m) {
        StringBuilder b = new StringBuilder();
        b.append(m.id()).append(" — ").append(m.name()).append(" (").append(m.kind()).append(")\n");
        if (m.description() != null) b.append(m.description()).append('\n');
        b.append("cost: ").append(rule(m.cost())).append(" · eta: ").append(rule(m.eta()))
                .append(m.timeoutSeconds() == null ? "" : " · deadline: " + m.timeoutSeconds() + " s").append('\n');
        b.append('\n');
        Table modes = new Table(2, "MODE", "PROMPT", "IMAGES");
        for (Wire.Mode mode : m.modes()) {
            String images = mode.images() == null ? "" : mode.images().stream()
                    .map(i -> i.name() + " (" + (i.min() != null && i.min().equals(i.max()) ? String.valueOf(i.min()) : i.min() + "–" + i.max()) + ")")
                    .collect(Collectors.joining(", "));
            modes.row(mode.id(), mode.prompt(), images);
        }
        b.append(modes.render()).append('\n');
        Table params = new Table(4, "PARAMETER", "TYPE", "DEFAULT", "ALLOWED", "HELP");
        for (Wire.Param p : m.params()) {
            String allowed;
            if (p.locked() != null && !p.locked().isNull()) allowed = "locked to " + text(p.locked());
            else if (p.enumValues() != null && !p.enumValues().isEmpty()) allowed = p.enumValues().stream().map(ModelsCommand::text).collect(Collectors.joining(", "));
            else if (p.min() != null || p.max() != null) allowed = number(p.min()) + "–" + number(p.max());
            else allowed = "";
            String help = (p.help() == null ? "" : p.help()) + (p.modes() == null ? "" : " [" + String.join(", ", p.modes()) + "]")
                    + (p.required() ? " (required)" : "");
            params.row(p.name(), p.type(), text(p.defaultValue()), allowed, help);
        }
        b.append(params.isEmpty() ? "no parameters\n" : params.render());
        return b.toString();
    }

    private static String rule(Wire.Rule r) {
        if (r == null) return "";
        String v = r.defaultValue() == null ? r.expression() : number(r.defaultValue());
        return v + (r.unit() == null ? "" : " " + r.unit()) + (r.per() == null ? "" : " per " + r.per());
    }

    private static String number(Double d) {
        if (d == null) return "";
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf(d.longValue()) : String.format(Locale.ROOT, "%.4g", d).replaceAll("\\.?0+$", "");
    }

    private static String text(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) return "";
        return n.isString() ? n.asString() : n.toString();
    }
}

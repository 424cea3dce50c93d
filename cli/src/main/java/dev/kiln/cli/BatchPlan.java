package dev.kiln.cli;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Turns the rows of a prompts file and the command line into run requests ({@code POST /v1/runs}).
 *
 * <p>A run shares one negative prompt and one set of parameters across its prompts, so rows whose
 * own values (CSV columns, JSONL keys) differ go to different runs: rows are grouped by those
 * values, in the order each group first appears. A group larger than the run size (the server's
 * {@code KILN_MAX_RUN_JOBS}) is split into several runs of whole prompts; a single prompt whose
 * copies × grid cells alone exceed it is refused, since splitting it would change what the grid
 * or the seed stepping of copies means.
 *
 * <p>Text values ({@code --param}, {@code --grid}, CSV cells) are typed from the model's schema
 * ({@code GET /v1/models/{id}}) so that {@code steps=30} is sent as a number; ranges, enums and
 * locked values are left to the server, which reports every bad field at once.
 */
final class BatchPlan {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** What the command line says for every row. */
    record Options(String model, String mode, int count, Map<String, String> params, Map<String, String> grid,
                   String negativePrompt, Map<String, List<String>> images, int runSize) {}

    /**
     * One run to submit.
     *
     * @param lines the file line of each prompt, in the order of {@code prompts}
     * @param jobs  how many jobs it expands to (prompts × count × grid cells)
     */
    record RunSpec(ObjectNode body, List<Integer> lines, int jobs, int jobsPerPrompt) {}

    private BatchPlan() {}

    static List<RunSpec> plan(List<PromptFile.Row> rows, Options o, Wire.Model model) {
        List<String> problems = new ArrayList<>();
        Map<String, JsonNode> shared = new LinkedHashMap<>();
        o.params().forEach((k, v) -> shared.put(k, coerce(model, k, v, "--param " + k + "=" + v, problems)));
        ObjectNode grid = NODES.objectNode();
        int cells = 1;
        for (var e : o.grid().entrySet()) {
            ArrayNode values = grid.putArray(e.getKey());
            for (String v : e.getValue().split(",", -1)) {
                values.add(coerce(model, e.getKey(), v.strip(), "--grid " + e.getKey() + "=" + e.getValue(), problems));
            }
            cells *= values.size();
        }
        int perPrompt = o.count() * cells;
        if (perPrompt > o.runSize()) {
            problems.add("one prompt expands to " + perPrompt + " jobs (--count " + o.count() + " × " + cells
                    + " grid cells), more than the " + o.runSize() + " jobs one run may hold (the server's KILN_MAX_RUN_JOBS; --run-size); "
                    + "lower --count or the grid");
        }

        // Group rows by their own negative prompt and parameters, in order of first appearance.
        Map<String, List<PromptFile.Row>> groups = new LinkedHashMap<>();
        Map<String, Map<String, JsonNode>> groupParams = new LinkedHashMap<>();
        Map<String, String> groupNegative = new LinkedHashMap<>();
        for (PromptFile.Row r : rows) {
            Map<String, JsonNode> params = new LinkedHashMap<>(shared);
            for (var e : r.params().entrySet()) {
                JsonNode v = e.getValue() instanceof JsonNode n ? n
                        : coerce(model, e.getKey(), (String) e.getValue(), "line " + r.line() + ", " + e.getKey() + "=" + e.getValue(), problems);
                params.put(e.getKey(), v);
            }
            String negative = r.negativePrompt() != null ? r.negativePrompt() : o.negativePrompt();
            String key = Wire.JSON.writeValueAsString(params) + "\u0000" + (negative == null ? "" : negative);
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
            groupParams.putIfAbsent(key, params);
            groupNegative.putIfAbsent(key, negative);
        }
        if (!problems.isEmpty()) {
            throw CliException.usage(problems.size() == 1 ? problems.getFirst() : problems.size() + " problems:\n  " + String.join("\n  ", problems));
        }

        int promptsPerRun = Math.max(1, o.runSize() / perPrompt);
        List<RunSpec> runs = new ArrayList<>();
        for (var g : groups.entrySet()) {
            List<PromptFile.Row> list = g.getValue();
            for (int from = 0; from < list.size(); from += promptsPerRun) {
                List<PromptFile.Row> chunk = list.subList(from, Math.min(list.size(), from + promptsPerRun));
                ObjectNode body = NODES.objectNode();
                body.put("model", o.model());
                if (o.mode() != null) body.put("mode", o.mode());
                ArrayNode prompts = body.putArray("prompts");
                chunk.forEach(r -> prompts.add(r.prompt()));
                String negative = groupNegative.get(g.getKey());
                if (negative != null) body.put("negative_prompt", negative);
                Map<String, JsonNode> params = groupParams.get(g.getKey());
                if (!params.isEmpty()) {
                    ObjectNode p = body.putObject("params");
                    params.forEach(p::set);
                }
                if (o.count() != 1) body.put("count", o.count());
                if (!grid.isEmpty()) body.set("grid", grid.deepCopy());
                if (!o.images().isEmpty()) {
                    ObjectNode images = body.putObject("images");
                    o.images().forEach((name, refs) -> {
                        ArrayNode a = images.putArray(name);
                        refs.forEach(a::add);
                    });
                }
                runs.add(new RunSpec(body, chunk.stream().map(PromptFile.Row::line).toList(), chunk.size() * perPrompt, perPrompt));
            }
        }
        return runs;
    }

    /**
     * Types a text value by the parameter's schema. Parameters the model does not declare are sent
     * as written (a number or true/false if it reads as one), so that the server names them.
     */
    static JsonNode coerce(Wire.Model model, String name, String raw, String where, List<String> problems) {
        Wire.Param p = model == null ? null : model.param(name);
        String type = p == null ? null : p.type();
        try {
            switch (type == null ? "" : type) {
                case "integer" -> {
                    return NODES.numberNode(new BigDecimal(raw.strip()).longValueExact());
                }
                case "number" -> {
                    return NODES.numberNode(new BigDecimal(raw.strip()));
                }
                case "boolean" -> {
                    String b = raw.strip().toLowerCase(Locale.ROOT);
                    if (b.equals("true") || b.equals("false")) return NODES.booleanNode(b.equals("true"));
                    problems.add(where + ": " + name + " is a boolean parameter; write true or false");
                    return NODES.nullNode();
                }
                case "object" -> {
                    JsonNode n = Wire.JSON.readTree(raw);
                    if (n.isObject() || n.isArray()) return n;
                    problems.add(where + ": " + name + " is an object parameter; write it as JSON, e.g. {\"key\": 1}");
                    return NODES.nullNode();
                }
                case "string" -> {
                    return NODES.stringNode(raw);
                }
                default -> {
                    return untyped(raw);
                }
            }
        } catch (NumberFormatException | ArithmeticException e) {
            problems.add(where + ": " + name + " is " + ("integer".equals(type) ? "an integer" : "a number") + " parameter; '" + raw
                    + "' is not " + ("integer".equals(type) ? "an integer" : "a number"));
            return NODES.nullNode();
        } catch (JacksonException e) {
            problems.add(where + ": " + name + " is an object parameter and this is not valid JSON (" + e.getOriginalMessage() + ")");
            return NODES.nullNode();
        }
    }

    private static JsonNode untyped(String raw) {
        String s = raw.strip();
        if (s.equals("true") || s.equals("false")) return NODES.booleanNode(s.equals("true"));
        try {
            BigDecimal d = new BigDecimal(s);
            return d.scale() <= 0 ? NODES.numberNode(d.toBigIntegerExact()) : NODES.numberNode(d);
        } catch (NumberFormatException | ArithmeticException e) {
            return NODES.stringNode(raw);
        }
    }
}

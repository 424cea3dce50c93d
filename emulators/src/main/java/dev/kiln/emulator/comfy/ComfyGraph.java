package dev.kiln.emulator.comfy;

import dev.kiln.emulator.support.Json;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * An API-format ComfyUI prompt ({@code {node id: {class_type, inputs}}}) and its validation as
 * ComfyUI's {@code validate_prompt} does it: every node needs a {@code class_type}, the prompt
 * needs an output node, and each output's inputs are checked recursively (required inputs present,
 * links to existing nodes of the right output type, numbers in range, {@code LoadImage} files
 * uploaded). Failures come back in ComfyUI's shape: an {@code error} object and per-node
 * {@code node_errors}. Custom node classes are accepted; only their links are checked.
 */
public final class ComfyGraph {
    /** One node: its id, class and raw inputs (literals, or {@code [node id, output slot]} links). */
    public record Node(String id, String classType, ObjectNode inputs) {}

    /**
     * The outcome of validation.
     *
     * @param error ComfyUI's top-level error ({@code type, message, details, extra_info}), null when the prompt may run
     * @param nodeErrors {@code {node id: {errors, dependent_outputs, class_type}}}, possibly non-empty even when it may run
     * @param outputs the output nodes that passed and will run, in prompt order
     */
    public record Validation(ObjectNode error, ObjectNode nodeErrors, List<String> outputs) {
        public boolean ok() {
            return error == null;
        }

        /** The 400 body ComfyUI answers for a refused prompt. */
        public ObjectNode errorBody() {
            ObjectNode o = Json.object();
            o.set("error", error == null ? Json.object() : error);
            o.set("node_errors", nodeErrors);
            return o;
        }
    }

    private final Map<String, Node> nodes;

    private ComfyGraph(Map<String, Node> nodes) {
        this.nodes = nodes;
    }

    public Map<String, Node> nodes() {
        return Collections.unmodifiableMap(nodes);
    }

    public Node node(String id) {
        return nodes.get(id);
    }

    /** The graph of a validated prompt (see {@link #validate}); nodes without a class are skipped. */
    public static ComfyGraph of(JsonNode prompt) {
        Map<String, Node> out = new LinkedHashMap<>();
        if (prompt instanceof ObjectNode o) {
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                JsonNode n = e.getValue();
                if (!n.isObject() || !n.path("class_type").isString()) continue;
                ObjectNode inputs = n.path("inputs") instanceof ObjectNode i ? i : Json.object();
                out.put(e.getKey(), new Node(e.getKey(), n.path("class_type").asString(), inputs));
            }
        }
        return new ComfyGraph(out);
    }

    /**
     * Validates a prompt.
     *
     * @param inputFiles the names of uploaded input images, which {@code LoadImage} may name
     */
    public static Validation validate(JsonNode prompt, Collection<String> inputFiles) {
        if (!(prompt instanceof ObjectNode o) || o.isEmpty()) {
            return new Validation(error("no_prompt", "No prompt provided", "No prompt provided"), Json.object(), List.of());
        }
        for (Map.Entry<String, JsonNode> e : o.properties()) {
            JsonNode n = e.getValue();
            if (!n.isObject() || !n.has("class_type")) {
                return new Validation(error("invalid_prompt", "Cannot execute because a node is missing the class_type property.",
                        "Node ID '#" + e.getKey() + "'"), Json.object(), List.of());
            }
            if (!n.get("class_type").isString()) {
                return new Validation(error("invalid_prompt", "Cannot execute because node " + e.getKey() + " has an invalid class_type.",
                        "Node ID '#" + e.getKey() + "'"), Json.object(), List.of());
            }
        }
        ComfyGraph g = of(prompt);
        List<String> outputs = new ArrayList<>();
        for (Node n : g.nodes.values()) if (ComfyNodes.isOutput(n.classType())) outputs.add(n.id());
        if (outputs.isEmpty()) {
            return new Validation(error("prompt_no_outputs", "Prompt has no outputs", ""), Json.object(), List.of());
        }
        Checker c = new Checker(g, Set.copyOf(inputFiles));
        List<String> good = new ArrayList<>();
        Map<String, Set<String>> dependents = new LinkedHashMap<>();
        for (String out : outputs) {
            Set<String> visited = new LinkedHashSet<>();
            if (c.check(out, new HashSet<>(), visited)) good.add(out);
            for (String v : visited) dependents.computeIfAbsent(v, k -> new LinkedHashSet<>()).add(out);
        }
        ObjectNode nodeErrors = Json.object();
        c.errors.forEach((id, errs) -> {
            if (errs.isEmpty()) return;
            ObjectNode ne = nodeErrors.putObject(id);
            ArrayNode a = ne.putArray("errors");
            errs.forEach(a::add);
            ArrayNode d = ne.putArray("dependent_outputs");
            dependents.getOrDefault(id, Set.of()).forEach(d::add);
            ne.put("class_type", g.nodes.get(id).classType());
        });
        if (good.isEmpty()) {
            return new Validation(error("prompt_outputs_failed_validation", "Prompt outputs failed validation", ""), nodeErrors, List.of());
        }
        return new Validation(null, nodeErrors, List.copyOf(good));
    }

    /**
     * A minimal {@code /object_info}: the node classes the machine knows, with their inputs
     * (required/optional, type or choice list; {@code LoadImage} lists the uploaded files) and outputs.
     */
    public static ObjectNode objectInfo(Collection<String> inputFiles) {
        ObjectNode all = Json.object();
        ComfyNodes.all().forEach((cls, spec) -> {
            ObjectNode o = all.putObject(cls);
            ObjectNode input = o.putObject("input");
            ObjectNode required = input.putObject("required");
            ObjectNode optional = input.putObject("optional");
            ArrayNode order = o.putObject("input_order").putArray("required");
            for (ComfyNodes.Input in : spec.inputs()) {
                ArrayNode t = (in.required() ? required : optional).putArray(in.name());
                if (in.type().equals("COMBO")) {
                    ArrayNode choices = t.addArray();
                    if (cls.equals("LoadImage")) inputFiles.stream().sorted().forEach(choices::add);
                } else {
                    t.add(in.type());
                    if (in.min() != null) {
                        ObjectNode opts = t.addObject();
                        opts.put("min", in.min());
                        opts.put("max", in.max());
                    }
                }
                if (in.required()) order.add(in.name());
            }
            ArrayNode out = o.putArray("output");
            spec.outputs().forEach(out::add);
            ArrayNode names = o.putArray("output_name");
            spec.outputs().forEach(names::add);
            ArrayNode isList = o.putArray("output_is_list");
            spec.outputs().forEach(x -> isList.add(false));
            o.put("name", cls);
            o.put("display_name", cls);
            o.put("description", "");
            o.put("python_module", "nodes");
            o.put("category", spec.category());
            o.put("output_node", spec.outputNode());
        });
        return all;
    }

    static ObjectNode error(String type, String message, String details) {
        ObjectNode e = Json.object();
        e.put("type", type);
        e.put("message", message);
        e.put("details", details);
        e.putObject("extra_info");
        return e;
    }

    /** Strips the {@code " [input]"} annotation the ComfyUI front end may add to a file name. */
    static String fileName(String value) {
        for (String suffix : new String[] {" [input]", " [output]", " [temp]"}) {
            if (value.endsWith(suffix)) return value.substring(0, value.length() - suffix.length());
        }
        return value;
    }

    /** Whether a value is a link: {@code [node id, slot]}. */
    static boolean isLink(JsonNode v) {
        return v != null && v.isArray() && v.size() == 2 && (v.get(0).isString() || v.get(0).isIntegralNumber())
                && v.get(1).isIntegralNumber();
    }

    private static final class Checker {
        final ComfyGraph g;
        final Set<String> files;
        final Map<String, Boolean> done = new LinkedHashMap<>();
        final Map<String, List<ObjectNode>> errors = new LinkedHashMap<>();

        Checker(ComfyGraph g, Set<String> files) {
            this.g = g;
            this.files = files;
        }

        boolean check(String id, Set<String> stack, Set<String> visited) {
            visited.add(id);
            Boolean known = done.get(id);
            if (known != null) {
                // Collect the dependencies for dependent_outputs even when already checked.
                if (!stack.contains(id)) collectVisited(id, visited, new HashSet<>());
                return known;
            }
            Node n = g.nodes.get(id);
            List<ObjectNode> errs = errors.computeIfAbsent(id, k -> new ArrayList<>());
            if (!stack.add(id)) {
                errs.add(inputError("dependency_cycle", "Dependency cycle detected", "node " + id + " depends on itself", null));
                return false;
            }
            boolean ok = true;
            ComfyNodes.Spec spec = ComfyNodes.spec(n.classType());
            if (spec == null) {
                for (Map.Entry<String, JsonNode> e : n.inputs().properties()) {
                    if (isLink(e.getValue()) || e.getValue().isArray() && e.getValue().size() == 2 && e.getValue().get(0).isString()) {
                        ok &= checkLink(n, e.getKey(), e.getValue(), null, stack, visited, errs);
                    }
                }
            } else {
                for (ComfyNodes.Input in : spec.inputs()) {
                    JsonNode v = n.inputs().get(in.name());
                    if (v == null || v.isMissingNode()) {
                        if (in.required()) {
                            errs.add(inputError("required_input_missing", "Required input is missing", in.name(), in.name()));
                            ok = false;
                        }
                        continue;
                    }
                    if (v.isArray()) {
                        ok &= checkLink(n, in.name(), v, in, stack, visited, errs);
                    } else if (in.link()) {
                        errs.add(inputError("invalid_input_type", "Input is not a link",
                                in.name() + " must be linked to a " + in.type() + " output, got " + v, in.name()));
                        ok = false;
                    } else {
                        ok &= checkWidget(n, in, v, errs);
                    }
                }
            }
            stack.remove(id);
            done.put(id, ok);
            return ok;
        }

        void collectVisited(String id, Set<String> visited, Set<String> seen) {
            if (!seen.add(id)) return;
            visited.add(id);
            Node n = g.nodes.get(id);
            if (n == null) return;
            for (Map.Entry<String, JsonNode> e : n.inputs().properties()) {
                if (isLink(e.getValue())) {
                    String t = e.getValue().get(0).asString();
                    if (g.nodes.containsKey(t)) collectVisited(t, visited, seen);
                }
            }
        }

        boolean checkLink(Node n, String name, JsonNode v, ComfyNodes.Input in, Set<String> stack, Set<String> visited,
                          List<ObjectNode> errs) {
            if (!isLink(v)) {
                errs.add(inputError("bad_linked_input", "Bad linked input, must be a length-2 list of [string, int]", name + ", " + v, name));
                return false;
            }
            String target = v.get(0).asString();
            int slot = v.get(1).asInt();
            Node t = g.nodes.get(target);
            if (t == null) {
                errs.add(inputError("bad_linked_input", "Bad linked input, the linked node does not exist",
                        name + " links to node " + target + ", which is not in the prompt", name));
                return false;
            }
            ComfyNodes.Spec ts = ComfyNodes.spec(t.classType());
            if (ts != null && in != null && in.link()) {
                String got = slot >= 0 && slot < ts.outputs().size() ? ts.outputs().get(slot) : null;
                if (got == null || !got.equals(in.type())) {
                    ObjectNode e = inputError("return_type_mismatch", "Return type mismatch between linked nodes",
                            name + ", received_type(" + (got == null ? "no output " + slot : got) + ") mismatch input_type(" + in.type() + ")", name);
                    ((ObjectNode) e.get("extra_info")).putArray("linked_node").add(target).add(slot);
                    errs.add(e);
                    return false;
                }
            }
            return check(target, stack, visited);
        }

        boolean checkWidget(Node n, ComfyNodes.Input in, JsonNode v, List<ObjectNode> errs) {
            switch (in.type()) {
                case "INT", "FLOAT" -> {
                    Double d = number(v, in.type().equals("INT"));
                    if (d == null) {
                        errs.add(inputError("invalid_input_type", "Failed to convert an input value to a " + in.type() + " value",
                                in.name() + ", " + v, in.name()));
                        return false;
                    }
                    if (in.min() != null && d < in.min()) {
                        errs.add(inputError("value_smaller_than_min", "Value " + plain(d) + " smaller than min of " + plain(in.min()), in.name(), in.name()));
                        return false;
                    }
                    if (in.max() != null && d > in.max()) {
                        errs.add(inputError("value_bigger_than_max", "Value " + plain(d) + " bigger than max of " + plain(in.max()), in.name(), in.name()));
                        return false;
                    }
                    return true;
                }
                case "COMBO" -> {
                    if (!v.isValueNode() || v.isNull()) {
                        errs.add(inputError("value_not_in_list", "Value not in list", in.name() + ": '" + v + "' not in list", in.name()));
                        return false;
                    }
                    if (n.classType().equals("LoadImage") && in.name().equals("image")) {
                        String file = fileName(v.asString());
                        if (!files.contains(file)) {
                            List<String> sorted = new ArrayList<>(files);
                            Collections.sort(sorted);
                            errs.add(inputError("value_not_in_list", "Value not in list",
                                    "image: '" + v.asString() + "' not in " + sorted, in.name()));
                            return false;
                        }
                    }
                    return true;
                }
                case "BOOLEAN" -> {
                    if (!v.isBoolean() && !v.isNumber()) {
                        errs.add(inputError("invalid_input_type", "Failed to convert an input value to a BOOLEAN value", in.name() + ", " + v, in.name()));
                        return false;
                    }
                    return true;
                }
                default -> {
                    return true; // STRING: ComfyUI takes str() of anything
                }
            }
        }

        static Double number(JsonNode v, boolean integral) {
            double d;
            if (v.isNumber()) d = v.asDouble();
            else if (v.isString()) {
                try {
                    d = Double.parseDouble(v.asString().trim());
                } catch (NumberFormatException e) {
                    return null;
                }
            } else if (v.isBoolean()) d = v.asBoolean() ? 1 : 0;
            else return null;
            if (integral && v.isString() && d != Math.rint(d)) return null;
            return integral ? Math.floor(d) : d;
        }

        static String plain(double d) {
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
        }

        static ObjectNode inputError(String type, String message, String details, String inputName) {
            ObjectNode e = error(type, message, details);
            if (inputName != null) ((ObjectNode) e.get("extra_info")).put("input_name", inputName);
            return e;
        }
    }
}

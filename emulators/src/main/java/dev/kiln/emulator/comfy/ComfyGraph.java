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

    /** Validates a prompt on a server with the sandbox's inventory ({@link ComfyInventory#sandbox()}). */
    public static Validation validate(JsonNode prompt, Collection<String> inputFiles) {
        return validate(prompt, inputFiles, ComfyInventory.sandbox());
    }

    /**
     * Validates a prompt as Comfy-Org/ComfyUI {@code execution.validate_prompt} does: every node's
     * class must be installed ({@code missing_node_type}, before anything else), the prompt needs an
     * output node, and each output's inputs are checked recursively ({@code validate_inputs}:
     * required inputs present, links to existing nodes of the right type, widget values converted
     * to their type, numbers in range, combo values in their list — model files in their folder,
     * {@code LoadImage} files uploaded).
     *
     * @param inputFiles the names of uploaded input images, which {@code LoadImage} may name
     * @param inventory the model files and custom nodes installed
     */
    public static Validation validate(JsonNode prompt, Collection<String> inputFiles, ComfyInventory inventory) {
        if (!(prompt instanceof ObjectNode o) || o.isEmpty()) {
            return new Validation(error("no_prompt", "No prompt provided", "No prompt provided"), Json.object(), List.of());
        }
        for (Map.Entry<String, JsonNode> e : o.properties()) {
            JsonNode n = e.getValue();
            String title = n.path("_meta").path("title").isString() ? n.path("_meta").path("title").asString() : null;
            if (!n.isObject() || !n.has("class_type")) {
                ObjectNode err = error("missing_node_type", "Node '" + (title != null ? title : "ID #" + e.getKey())
                        + "' has no class_type. The workflow may be corrupted or a custom node is missing.", "Node ID '#" + e.getKey() + "'");
                ObjectNode extra = (ObjectNode) err.get("extra_info");
                extra.put("node_id", e.getKey());
                extra.putNull("class_type");
                if (title == null) extra.putNull("node_title");
                else extra.put("node_title", title);
                return new Validation(err, Json.object(), List.of());
            }
            JsonNode cls = n.get("class_type");
            if (!cls.isString() || !inventory.has(cls.asString())) {
                String classType = cls.isString() ? cls.asString() : cls.toString();
                String nodeTitle = title != null ? title : classType;
                ObjectNode err = error("missing_node_type", "Node '" + nodeTitle + "' not found. The custom node may not be installed.",
                        "Node ID '#" + e.getKey() + "'");
                ObjectNode extra = (ObjectNode) err.get("extra_info");
                extra.put("node_id", e.getKey());
                extra.set("class_type", cls);
                extra.put("node_title", nodeTitle);
                return new Validation(err, Json.object(), List.of());
            }
        }
        ComfyGraph g = of(prompt);
        List<String> outputs = new ArrayList<>();
        for (Node n : g.nodes.values()) if (ComfyNodes.isOutput(n.classType())) outputs.add(n.id());
        if (outputs.isEmpty()) {
            return new Validation(error("prompt_no_outputs", "Prompt has no outputs", ""), Json.object(), List.of());
        }
        Checker c = new Checker(g, List.copyOf(inputFiles), inventory);
        List<String> good = new ArrayList<>();
        Map<String, Set<String>> dependents = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        for (String out : outputs) {
            Set<String> visited = new LinkedHashSet<>();
            if (c.check(out, new HashSet<>(), visited)) good.add(out);
            else for (ObjectNode err : c.errors.getOrDefault(out, List.of())) {
                failures.add(err.path("message").asString() + ": " + err.path("details").asString());
            }
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
            // execution.py joins the outputs' own errors, "message: details", one per line.
            return new Validation(error("prompt_outputs_failed_validation", "Prompt outputs failed validation", String.join("\n", failures)),
                    nodeErrors, List.of());
        }
        return new Validation(null, nodeErrors, List.copyOf(good));
    }

    /** {@code /object_info} of a server with the sandbox's inventory. */
    public static ObjectNode objectInfo(Collection<String> inputFiles) {
        return objectInfo(inputFiles, ComfyInventory.sandbox());
    }

    /**
     * {@code /object_info} as server.py's {@code node_info} writes it, for every node class
     * installed: inputs (required/optional; a combo as its list, {@code [[choices], {...}]}, or, for
     * V3 nodes, {@code ["COMBO", {"options": [...]}]}; model folders list their files,
     * {@code LoadImage} the uploaded inputs), {@code input_order}, outputs, category, output node.
     * Installed custom classes the machine has no schema for are listed without inputs.
     */
    public static ObjectNode objectInfo(Collection<String> inputFiles, ComfyInventory inventory) {
        ObjectNode all = Json.object();
        for (String cls : inventory.nodeClasses()) {
            ComfyNodes.Spec spec = ComfyNodes.spec(cls);
            if (spec == null) spec = new ComfyNodes.Spec(cls, List.of(), List.of(), ComfyNodes.isOutput(cls), "custom", cls, false, "custom_nodes");
            ObjectNode o = all.putObject(cls);
            ObjectNode input = o.putObject("input");
            ObjectNode required = input.putObject("required");
            ObjectNode optional = null;
            ObjectNode order = o.putObject("input_order");
            ArrayNode reqOrder = order.putArray("required");
            ArrayNode optOrder = null;
            for (ComfyNodes.Input in : spec.inputs()) {
                if (!in.required() && optional == null) {
                    optional = input.putObject("optional");
                    optOrder = order.putArray("optional");
                }
                ArrayNode t = (in.required() ? required : optional).putArray(in.name());
                List<String> choices = in.choices(inventory, inputFiles);
                if (choices != null) {
                    if (spec.v3()) {
                        t.add("COMBO");
                        ArrayNode opts = t.addObject().putArray("options");
                        choices.forEach(opts::add);
                    } else {
                        ArrayNode list = t.addArray();
                        choices.forEach(list::add);
                        if (in.folder() != null && in.folder().equals(ComfyNodes.INPUT_FOLDER)) t.addObject().put("image_upload", true);
                    }
                } else {
                    t.add(in.type());
                    if (in.min() != null) {
                        ObjectNode opts = t.addObject();
                        if (in.type().equals("INT")) {
                            opts.put("min", (long) (double) in.min());
                            if (in.max() >= 9.2e18) opts.put("max", new java.math.BigInteger("18446744073709551615"));
                            else opts.put("max", (long) (double) in.max());
                        } else {
                            opts.put("min", in.min());
                            opts.put("max", in.max());
                        }
                    }
                }
                (in.required() ? reqOrder : optOrder).add(in.name());
            }
            ArrayNode out = o.putArray("output");
            spec.outputs().forEach(out::add);
            ArrayNode isList = o.putArray("output_is_list");
            spec.outputs().forEach(x -> isList.add(false));
            ArrayNode names = o.putArray("output_name");
            spec.outputs().forEach(names::add);
            o.put("name", cls);
            o.put("display_name", cls);
            o.put("description", "");
            o.put("python_module", spec.module());
            o.put("category", spec.category());
            o.put("output_node", spec.outputNode());
        }
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
        final List<String> files;
        final ComfyInventory inventory;
        final Map<String, Boolean> done = new LinkedHashMap<>();
        final Map<String, List<ObjectNode>> errors = new LinkedHashMap<>();

        Checker(ComfyGraph g, List<String> files, ComfyInventory inventory) {
            this.g = g;
            this.files = files;
            this.inventory = inventory;
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

        /**
         * A widget value as execution.py's {@code validate_inputs} checks it: converted with
         * Python's {@code int()}/{@code float()} ({@code invalid_input_type} when that raises),
         * then min and max, then a combo's list ({@code value_not_in_list}, the list shown only
         * up to 20 entries). {@code LoadImage}'s file is checked by its own {@code VALIDATE_INPUTS}
         * instead ({@code custom_validation_failed}). STRING and BOOLEAN take anything
         * ({@code str()}, {@code bool()}).
         */
        boolean checkWidget(Node n, ComfyNodes.Input in, JsonNode v, List<ObjectNode> errs) {
            if (v.isObject() && v.has("__value__")) v = v.get("__value__");
            switch (in.type()) {
                case "INT", "FLOAT" -> {
                    boolean integral = in.type().equals("INT");
                    String failure = Py.conversionError(v, integral);
                    if (failure != null) {
                        ObjectNode e = inputError("invalid_input_type", "Failed to convert an input value to a " + in.type() + " value",
                                in.name() + ", " + Py.str(v) + ", " + failure, in.name());
                        ((ObjectNode) e.get("extra_info")).set("received_value", v);
                        ((ObjectNode) e.get("extra_info")).put("exception_message", failure);
                        errs.add(e);
                        return false;
                    }
                    double d = Py.toNumber(v, integral);
                    if (in.min() != null && d < in.min()) {
                        errs.add(received(inputError("value_smaller_than_min", "Value " + Py.number(d, integral) + " smaller than min of "
                                + Py.number(in.min(), integral), in.name(), in.name()), v));
                        return false;
                    }
                    if (in.max() != null && d > in.max()) {
                        errs.add(received(inputError("value_bigger_than_max", "Value " + Py.number(d, integral) + " bigger than max of "
                                + Py.number(in.max(), integral), in.name(), in.name()), v));
                        return false;
                    }
                    return true;
                }
                case "COMBO" -> {
                    if (n.classType().equals("LoadImage") && in.name().equals("image")) {
                        String file = fileName(Py.str(v));
                        if (!v.isString() || !files.contains(file)) {
                            errs.add(inputError("custom_validation_failed", "Custom validation failed for node",
                                    "image - Invalid image file: " + Py.str(v), in.name()));
                            return false;
                        }
                        return true;
                    }
                    List<String> choices = in.choices(inventory, files);
                    if (choices == null) return true;
                    if (!v.isString() || !choices.contains(v.asString())) {
                        String list = choices.size() > 20 ? "(list of length " + choices.size() + ")" : Py.list(choices);
                        ObjectNode e = inputError("value_not_in_list", "Value not in list", in.name() + ": " + Py.repr(v) + " not in " + list,
                                in.name());
                        ObjectNode extra = (ObjectNode) e.get("extra_info");
                        if (choices.size() > 20) extra.putNull("input_config");
                        else {
                            ArrayNode config = extra.putArray("input_config");
                            ArrayNode c = config.addArray();
                            choices.forEach(c::add);
                            config.addObject();
                        }
                        extra.set("received_value", v);
                        errs.add(e);
                        return false;
                    }
                    return true;
                }
                default -> {
                    return true; // STRING and BOOLEAN: str() and bool() take anything
                }
            }
        }

        static ObjectNode received(ObjectNode error, JsonNode v) {
            ((ObjectNode) error.get("extra_info")).set("received_value", v);
            return error;
        }

        static ObjectNode inputError(String type, String message, String details, String inputName) {
            ObjectNode e = error(type, message, details);
            if (inputName != null) ((ObjectNode) e.get("extra_info")).put("input_name", inputName);
            return e;
        }
    }
}

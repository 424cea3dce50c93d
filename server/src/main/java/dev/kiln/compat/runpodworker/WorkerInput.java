package dev.kiln.compat.runpodworker;

import dev.kiln.support.Json;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * A RunPod request body for a worker-comfyui endpoint, checked as RunPod and the worker check it:
 * RunPod wants a JSON object with {@code input} (else 400); the worker's {@code validate_input}
 * (runpod-workers/worker-comfyui, handler.py) then wants {@code input} present (a JSON string is
 * parsed), {@code workflow} in it, and {@code images}, if given, a list of {@code {name, image}}.
 * Kiln also wants the workflow to be an object (ComfyUI's API format), each image's base64 to
 * decode (the {@code data:…;base64,} prefix is optional: as in the worker, the part after the first
 * comma is taken) and each name to be a plain, unique file name (ComfyUI's {@code /upload/image}
 * stores it under that name, which LoadImage nodes refer to). Every refusal is a
 * {@link WorkerException} (400) with the worker's own message where it has one.
 *
 * @param images file name → the image as a {@code data:} URI
 * @param webhook RunPod's top-level {@code webhook}, or null
 * @param lowPriority RunPod's {@code policy.lowPriority}
 */
record WorkerInput(Map<String, Object> workflow, Map<String, String> images, String webhook, boolean lowPriority) {
    static final String NO_INPUT = "Please provide input";
    static final String BAD_JSON = "Invalid JSON format in input";
    static final String NO_WORKFLOW = "Missing 'workflow' parameter";
    static final String BAD_IMAGES = "'images' must be a list of objects with 'name' and 'image' keys";
    static final String UPLOAD_FAILED = "Failed to upload one or more input images";
    /** RunPod's execution policy bounds (docs.runpod.io, serverless/endpoints/send-requests, execution policies), in ms. */
    static final long MIN_EXECUTION_TIMEOUT = 5_000, MIN_TTL = 10_000, MAX_POLICY = 7L * 24 * 3600 * 1000;

    static WorkerInput parse(JsonNode body) {
        if (body == null || !body.isObject()) throw WorkerException.badRequest("the request body must be a JSON object with 'input'");
        if (!body.has("input")) throw WorkerException.badRequest("'input' is required");
        String webhook = null;
        JsonNode w = body.get("webhook");
        if (w != null && !w.isNull()) {
            if (!w.isString() || !(w.asString().startsWith("http://") || w.asString().startsWith("https://"))) {
                throw WorkerException.badRequest("'webhook' must be an http(s) URL");
            }
            webhook = w.asString();
        }
        boolean low = policy(body.get("policy"));
        JsonNode input = body.get("input");
        if (input == null || input.isNull()) throw WorkerException.badRequest(NO_INPUT);
        if (input.isString()) {
            try {
                input = Json.MAPPER.readTree(input.asString());
            } catch (JacksonException e) {
                throw WorkerException.badRequest(BAD_JSON);
            }
            if (input == null || !input.isObject()) throw WorkerException.badRequest(BAD_JSON);
        }
        if (!input.isObject()) throw WorkerException.badRequest(BAD_JSON);
        JsonNode workflow = input.get("workflow");
        if (workflow == null || workflow.isNull()) throw WorkerException.badRequest(NO_WORKFLOW);
        if (!workflow.isObject() || workflow.isEmpty()) {
            throw WorkerException.badRequest("'workflow' must be a JSON object of nodes in ComfyUI's API format ({node id: {class_type, inputs}})");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> graph = Json.MAPPER.treeToValue(workflow, LinkedHashMap.class);
        return new WorkerInput(graph, images(input.get("images")), webhook, low);
    }

    private static boolean policy(JsonNode p) {
        if (p == null || p.isNull()) return false;
        if (!p.isObject()) throw WorkerException.badRequest("'policy' must be an object");
        bounded(p, "executionTimeout", MIN_EXECUTION_TIMEOUT);
        bounded(p, "ttl", MIN_TTL);
        JsonNode low = p.get("lowPriority");
        if (low != null && !low.isNull() && !low.isBoolean()) throw WorkerException.badRequest("policy.lowPriority must be true or false");
        return low != null && low.asBoolean(false);
    }

    private static void bounded(JsonNode p, String field, long min) {
        JsonNode v = p.get(field);
        if (v == null || v.isNull()) return;
        if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > MAX_POLICY) {
            throw WorkerException.badRequest("policy." + field + " must be an integer from " + min + " to " + MAX_POLICY + " ms");
        }
    }

    private static Map<String, String> images(JsonNode n) {
        Map<String, String> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) return out;
        if (!n.isArray()) throw WorkerException.badRequest(BAD_IMAGES);
        for (JsonNode i : n) {
            if (!i.isObject() || !i.has("name") || !i.has("image")) throw WorkerException.badRequest(BAD_IMAGES);
        }
        List<String> problems = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (JsonNode i : n) {
            JsonNode name = i.get("name"), image = i.get("image");
            if (!name.isString() || !image.isString()) {
                problems.add((name.isString() ? name.asString() : name.toString()) + ": 'name' and 'image' must be strings");
                continue;
            }
            String file = name.asString();
            if (!plainFileName(file)) {
                problems.add(file + ": not a plain file name (no folders, no control characters, at most 200 characters)");
                continue;
            }
            if (!names.add(file)) {
                problems.add(file + ": given twice; each image needs its own name");
                continue;
            }
            String uri = dataUri(file, image.asString());
            if (uri == null) problems.add(file + ": the image is not valid base64");
            else out.put(file, uri);
        }
        if (!problems.isEmpty()) throw WorkerException.badRequest(UPLOAD_FAILED + ": " + String.join("; ", problems));
        return out;
    }

    static boolean plainFileName(String name) {
        return name.length() >= 1 && name.length() <= 200 && !name.equals(".") && !name.equals("..")
                && name.chars().noneMatch(c -> c == '/' || c == '\\' || c < 0x20 || c == 0x7f);
    }

    /**
     * The image as a {@code data:} URI: the part after the first comma (worker-comfyui's rule),
     * whitespace dropped, decoded to check it and to tell its type from its first bytes (else from
     * the file name). Null when it is not base64 or holds nothing.
     */
    static String dataUri(String name, String value) {
        int comma = value.indexOf(',');
        String b64 = (comma >= 0 ? value.substring(comma + 1) : value).replaceAll("\\s", "");
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            try {
                bytes = Base64.getUrlDecoder().decode(b64);
            } catch (IllegalArgumentException e2) {
                return null;
            }
        }
        if (bytes.length == 0) return null;
        String mime = sniff(bytes);
        if (mime == null) mime = byName(name);
        return "data:" + mime + ";base64," + Base64.getEncoder().encodeToString(bytes);
    }

    private static String sniff(byte[] b) {
        if (b.length >= 4 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return "image/png";
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) return "image/jpeg";
        if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
            return "image/webp";
        }
        if (b.length >= 4 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F' && b[3] == '8') return "image/gif";
        if (b.length >= 2 && b[0] == 'B' && b[1] == 'M') return "image/bmp";
        return null;
    }

    private static String byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".jpg") || n.endsWith(".jpeg")) return "image/jpeg";
        if (n.endsWith(".webp")) return "image/webp";
        if (n.endsWith(".gif")) return "image/gif";
        return "image/png";
    }
}

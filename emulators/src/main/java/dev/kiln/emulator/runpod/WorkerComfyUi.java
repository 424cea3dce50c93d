package dev.kiln.emulator.runpod;

import dev.kiln.emulator.comfy.ComfyFolders;
import dev.kiln.emulator.comfy.ComfyGraph;
import dev.kiln.emulator.comfy.ComfyInventory;
import dev.kiln.emulator.comfy.ComfyMachine;
import dev.kiln.emulator.support.Json;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The handler of runpod-workers/worker-comfyui 5.x (docs/PROVIDERS.md, "RunPod serverless"), on the sandbox
 * graph machine instead of a ComfyUI process: validate the input, "upload" the images by name,
 * queue the workflow (ComfyUI's validation, turned into worker-comfyui's error text), run it, and
 * return {@code {"images":[{filename,type:"base64"|"s3_url",data}], "errors"?}} or {@code {"error", "details"?}}
 * (handler.py of runpod-workers/worker-comfyui). Like the real worker it only collects
 * {@code images} outputs (core video savers such as {@code SaveVideo} report theirs there too); other
 * output keys ({@code gifs} of VideoHelperSuite, {@code animated}) are only logged as unhandled, so a
 * workflow that saved nothing under {@code images} ends {@code {"status":"success_no_images","images":[]}}.
 * With {@code videoOutputs} it also returns the {@code gifs}/{@code videos} files of video nodes in
 * the same list, as a customised worker does.
 */
final class WorkerComfyUi {
    private WorkerComfyUi() {}

    /** Where a worker with {@code BUCKET_ENDPOINT_URL} set puts a file (runpod-python {@code rp_upload.upload_image}); answers its presigned URL. */
    interface Bucket {
        String upload(String jobId, String filename, byte[] bytes);
    }

    /** The handler's return value; {@code bucket} null answers files as base64. */
    static ObjectNode handle(String jobId, JsonNode rawInput, ComfyInventory inventory, boolean videoOutputs, Bucket bucket, ComfyMachine.Listener listener) {
        JsonNode input = rawInput;
        if (input == null || input.isNull() || input.isMissingNode()) return error("Please provide input", null);
        if (input.isString()) {
            try {
                input = Json.MAPPER.readTree(input.asString());
            } catch (JacksonException e) {
                return error("Invalid JSON format in input", null);
            }
        }
        JsonNode workflow = input.get("workflow");
        if (workflow == null || workflow.isNull()) return error("Missing 'workflow' parameter", null);
        JsonNode images = input.get("images");
        if (images != null && !images.isNull()) {
            boolean ok = images.isArray();
            if (ok) for (JsonNode i : images) ok &= i.isObject() && i.has("name") && i.has("image");
            if (!ok) return error("'images' must be a list of objects with 'name' and 'image' keys", null);
        }

        ComfyFolders folders = new ComfyFolders(512L * 1024 * 1024);
        if (images != null && images.isArray() && !images.isEmpty()) {
            List<String> uploadErrors = new ArrayList<>();
            for (JsonNode i : images) {
                String name = i.get("name").asString("");
                String data = i.get("image").asString("");
                int comma = data.indexOf(',');
                try {
                    byte[] blob = Base64.getDecoder().decode((comma >= 0 ? data.substring(comma + 1) : data).replaceAll("\\s", ""));
                    folders.upload("input", "", name, blob, true);
                } catch (IllegalArgumentException e) {
                    uploadErrors.add("Error decoding base64 for " + name + ": " + e.getMessage());
                }
            }
            if (!uploadErrors.isEmpty()) return error("Failed to upload one or more input images", uploadErrors);
        }

        ComfyGraph.Validation v = ComfyGraph.validate(workflow, folders.inputNames(), inventory);
        if (!v.ok()) return error(validationMessage(v, inventory), null);

        List<String> errors = new ArrayList<>();
        Map<String, ObjectNode> outputs;
        try {
            outputs = ComfyMachine.run(ComfyGraph.of(workflow), v.outputs(), folders, listener);
        } catch (ComfyMachine.ExecutionError e) {
            errors.add("Workflow execution error: Node Type: " + e.nodeType() + ", Node ID: " + e.nodeId() + ", Message: " + e.getMessage());
            outputs = Map.of();
        }
        if (outputs.isEmpty() && errors.isEmpty()) errors.add("No outputs found in history for prompt.");

        ArrayNode data = Json.MAPPER.createArrayNode();
        for (Map.Entry<String, ObjectNode> node : outputs.entrySet()) {
            for (Map.Entry<String, JsonNode> key : node.getValue().properties()) {
                boolean files = key.getKey().equals("images") || (videoOutputs && (key.getKey().equals("gifs") || key.getKey().equals("videos")));
                // The stock worker only prints "Node N produced unhandled output keys: [...]" for the rest: no error.
                if (!files) continue;
                for (JsonNode f : key.getValue()) {
                    String type = f.path("type").asString("");
                    if (type.equals("temp")) continue;
                    String filename = f.path("filename").asString("");
                    byte[] bytes = folders.get(type, f.path("subfolder").asString(""), filename);
                    if (bytes == null) {
                        errors.add("Failed to fetch image data for " + filename + " from /view endpoint.");
                        continue;
                    }
                    ObjectNode o = data.addObject();
                    o.put("filename", filename);
                    if (bucket != null) {
                        o.put("type", "s3_url");
                        o.put("data", bucket.upload(jobId, filename, bytes));
                    } else {
                        o.put("type", "base64");
                        o.put("data", Base64.getEncoder().encodeToString(bytes));
                    }
                }
            }
        }
        ObjectNode result = Json.object();
        if (!data.isEmpty()) result.set("images", data);
        if (!errors.isEmpty()) {
            ArrayNode e = result.putArray("errors");
            errors.forEach(e::add);
        }
        if (data.isEmpty() && !errors.isEmpty()) return error("Job processing failed", errors);
        if (data.isEmpty()) {
            result.put("status", "success_no_images");
            result.putArray("images");
        }
        return result;
    }

    /** worker-comfyui's text for a ComfyUI 400: "Workflow validation failed:\n• Node 3 (errors): [...]". */
    static String validationMessage(ComfyGraph.Validation v, ComfyInventory inventory) {
        String type = v.error().path("type").asString("");
        String message = type.equals("prompt_outputs_failed_validation") ? "Workflow validation failed"
                : v.error().path("message").asString("Workflow validation failed");
        List<String> details = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : v.nodeErrors().properties()) {
            for (Map.Entry<String, JsonNode> kv : e.getValue().properties()) {
                details.add("Node " + e.getKey() + " (" + kv.getKey() + "): " + (kv.getValue().isString() ? kv.getValue().asString() : kv.getValue().toString()));
            }
        }
        if (details.isEmpty()) return message + ". Raw response: " + Json.write(v.errorBody());
        StringBuilder sb = new StringBuilder(message).append(':');
        for (String d : details) sb.append("\n• ").append(d);
        // handler.py's hint for a checkpoint not in the list: the names CheckpointLoaderSimple offers.
        if (details.stream().anyMatch(d -> d.contains("not in list") && d.contains("ckpt_name"))) {
            List<String> ckpts = inventory.files("checkpoints");
            sb.append(ckpts.isEmpty() ? "\n\nNo checkpoint models appear to be available. Please check your model installation."
                    : "\n\nAvailable checkpoint models: " + String.join(", ", ckpts));
        }
        return sb.toString();
    }

    static ObjectNode error(String message, List<String> details) {
        ObjectNode o = Json.object();
        o.put("error", message);
        if (details != null) {
            ArrayNode d = o.putArray("details");
            details.forEach(d::add);
        }
        return o;
    }
}

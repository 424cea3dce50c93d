package dev.kiln.provider;

/**
 * Something an account lacks to run a piece of work: a model file, a node class, a kind of output.
 *
 * @param path where in the work's input it is needed, e.g. {@code 4.inputs.ckpt_name} (node 4's
 *     input of a ComfyUI workflow) or {@code 60.class_type}; empty for the work as a whole
 * @param message what is missing and why, e.g. {@code 'x.safetensors' is not among its checkpoints}
 */
public record Shortfall(String path, String message) {}

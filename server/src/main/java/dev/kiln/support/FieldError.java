package dev.kiln.support;

/** One bad field of a request: its name as the client wrote it (e.g. {@code params.width}) and why. */
public record FieldError(String field, String message) {}

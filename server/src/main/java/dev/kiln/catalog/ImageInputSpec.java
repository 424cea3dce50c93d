package dev.kiln.catalog;

/** A named image input of a mode and how many images it takes. */
public record ImageInputSpec(String name, int min, int max) {}

package dev.kiln.catalog;

/**
 * A cost or ETA rule: a Spring expression over the job's resolved parameters, each available as
 * {@code #name} (e.g. {@code "40 * #width * #height / 262144"}), plus {@code #sandbox_latency} in
 * seconds. {@code per} says what the result counts (e.g. "output").
 */
public record Rule(String expression, String unit, String per, String help) {}

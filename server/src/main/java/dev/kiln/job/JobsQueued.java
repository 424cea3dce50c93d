package dev.kiln.job;

/** Published when jobs were inserted, so the dispatcher wakes once their transaction commits. */
public record JobsQueued(int count) {}

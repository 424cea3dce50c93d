package dev.kiln.asset;

import java.nio.file.Path;

/** Probes a file the way Kiln did before the limits, in-process: what {@link VideoProbeLimitsTest} shows would hang or blow up. */
final class UnlimitedProbe {
    private UnlimitedProbe() {}

    public static void main(String[] args) {
        System.out.println("facts: " + VideoProbe.facts(Path.of(args[0]), "video/mp4"));
    }
}

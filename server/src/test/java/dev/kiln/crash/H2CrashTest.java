package dev.kiln.crash;

import java.util.Map;

/** {@link CrashContract} on the embedded database (H2 file in the data dir). */
class H2CrashTest extends CrashContract {
    @Override
    Map<String, String> database() {
        return Map.of();
    }
}

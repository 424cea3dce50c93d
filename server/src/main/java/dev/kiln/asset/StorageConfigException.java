package dev.kiln.asset;

/** Kiln cannot start with this storage configuration; the message says why and what to do. */
public class StorageConfigException extends RuntimeException {
    private final String action;

    StorageConfigException(String problem, String action) {
        super(problem, null, false, false);
        this.action = action;
    }

    String action() {
        return action;
    }
}

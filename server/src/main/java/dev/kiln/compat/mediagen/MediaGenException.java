package dev.kiln.compat.mediagen;

/**
 * A refusal MediaGen's own API makes before the core is asked (a missing field, a model or mode
 * it does not have, a missing reference image): rendered by {@link MediaGenErrors} in the seed's
 * {@code {status:"error", error, code, details}} shape.
 *
 * @param details what a client can act on (the fields missing, the values allowed), or null
 */
final class MediaGenException extends RuntimeException {
    private final int status;
    private final String code;
    private final transient Object details;

    MediaGenException(int status, String code, String error, Object details) {
        super(error, null, false, false);
        this.status = status;
        this.code = code;
        this.details = details;
    }

    int status() { return status; }
    String code() { return code; }
    Object details() { return details; }
}

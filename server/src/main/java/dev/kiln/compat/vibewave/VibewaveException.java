package dev.kiln.compat.vibewave;

/** A refusal in Vibewave's terms: its HTTP status and {@code detail} ({@link VibewaveErrors} renders it). */
final class VibewaveException extends RuntimeException {
    private final int status;

    VibewaveException(int status, String detail) {
        super(detail, null, false, false);
        this.status = status;
    }

    static VibewaveException badRequest(String detail) {
        return new VibewaveException(400, detail);
    }

    static VibewaveException notFound(String detail) {
        return new VibewaveException(404, detail);
    }

    int status() {
        return status;
    }
}

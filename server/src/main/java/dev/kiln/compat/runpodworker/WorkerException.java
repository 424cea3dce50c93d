package dev.kiln.compat.runpodworker;

/** A refusal in RunPod's terms: its HTTP status and the message ({@link WorkerErrors} renders it). */
final class WorkerException extends RuntimeException {
    private final int status;

    WorkerException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    static WorkerException badRequest(String message) {
        return new WorkerException(400, message);
    }

    static WorkerException notFound(String message) {
        return new WorkerException(404, message);
    }

    int status() {
        return status;
    }
}

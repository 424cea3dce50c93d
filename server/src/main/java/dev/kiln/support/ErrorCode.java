package dev.kiln.support;

/** The error codes of the API (the OpenAPI document at /v3/api-docs lists them per operation) with their HTTP status. */
public enum ErrorCode {
    INVALID_JSON(400, "Malformed request"),
    /** The request line itself is malformed (e.g. bad percent-encoding); not about the body. */
    INVALID_REQUEST(400, "Malformed request"),
    UNAUTHORIZED(401, "Unauthorized"),
    INSUFFICIENT_CREDITS(402, "Insufficient credits"),
    FORBIDDEN(403, "Forbidden"),
    NOT_FOUND(404, "Not found"),
    METHOD_NOT_ALLOWED(405, "Method not allowed"),
    NOT_ACCEPTABLE(406, "Not acceptable"),
    CONFLICT(409, "Conflict"),
    TOO_LARGE(413, "Request too large"),
    UNSUPPORTED_MEDIA_TYPE(415, "Unsupported media type"),
    RANGE_NOT_SATISFIABLE(416, "Range not satisfiable"),
    VALIDATION_FAILED(422, "Validation failed"),
    RATE_LIMITED(429, "Too many requests"),
    INTERNAL(500, "Internal error"),
    QUEUE_OVERLOADED(503, "Queue overloaded"),
    STORAGE_UNAVAILABLE(503, "Storage unavailable"),
    STORAGE_FULL(507, "Insufficient storage");

    private final int status;
    private final String title;

    ErrorCode(int status, String title) {
        this.status = status;
        this.title = title;
    }

    public int status() { return status; }
    public String title() { return title; }
    public String wire() { return name().toLowerCase(); }
}

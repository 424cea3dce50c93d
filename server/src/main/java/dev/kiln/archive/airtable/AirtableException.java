package dev.kiln.archive.airtable;

/** A request Airtable refused or that did not reach it ({@code status} 0), with Airtable's error type and message. */
final class AirtableException extends Exception {
    private final int status;
    private final String type;

    AirtableException(int status, String type, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
    }

    int status() {
        return status;
    }

    String type() {
        return type;
    }

    @Override
    public String toString() {
        return (status == 0 ? "unreachable" : "HTTP " + status) + (type == null ? "" : " " + type) + ": " + getMessage();
    }
}

package dev.kiln.cli;

/**
 * Server-Sent Events framing, as the WHATWG HTML standard defines it
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * fields {@code event}, {@code data} (several lines join with a newline) and {@code id}; a line
 * starting with a colon is a comment (Kiln's keep-alives); a blank line ends an event. A few lines
 * of framing over the JDK's HTTP client rather than another HTTP stack in a CLI that must start fast.
 */
final class SseParser {
    record Event(String name, String id, String data) {}

    private String name;
    private String id;
    private StringBuilder data;

    /** Feeds one line without its terminator; returns the event a blank line completes, or null. */
    Event line(String line) {
        if (line.isEmpty()) {
            Event e = data == null ? null : new Event(name == null ? "message" : name, id, data.toString());
            name = null;
            data = null;
            return e;
        }
        if (line.startsWith(":")) return null;
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) value = value.substring(1);
        switch (field) {
            case "event" -> name = value;
            case "data" -> {
                if (data == null) data = new StringBuilder(value);
                else data.append('\n').append(value);
            }
            case "id" -> {
                if (value.indexOf('\0') < 0) id = value;
            }
            default -> {
                // "retry" and unknown fields: nothing to do for this client.
            }
        }
        return null;
    }
}

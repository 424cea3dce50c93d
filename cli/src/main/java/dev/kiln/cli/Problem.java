package dev.kiln.cli;

import java.util.List;

/**
 * The server's error answer ({@code application/problem+json}): RFC 9457 fields plus Kiln's
 * {@code code}, one entry per bad field, and for 503 a sentence saying what to do.
 */
record Problem(String type, String title, int status, String detail, String code, List<FieldError> errors, String userAction) {

    record FieldError(String field, String message) {}

    Problem {
        errors = errors == null ? List.of() : List.copyOf(errors);
    }

    /** A problem for an answer that was not problem+json (a proxy's HTML page, an empty body). */
    static Problem unstructured(int status, String contentType, String body) {
        String text = body == null ? "" : body.strip();
        if (text.length() > 300) text = text.substring(0, 300) + "…";
        String detail = "HTTP " + status + (contentType == null ? "" : " (" + contentType + ")") + (text.isEmpty() ? "" : ": " + text);
        return new Problem(null, null, status, detail, "http_" + status, List.of(), null);
    }

    /**
     * One readable block: the code and status, the detail, then one line per field.
     * <pre>
     * validation_failed (422): 2 fields are invalid
     *   params.steps: must be at most 50, got 80
     *   model: unknown model 'x'; known: ...
     * </pre>
     */
    String describe() {
        StringBuilder b = new StringBuilder();
        b.append(code == null ? "error" : code).append(" (").append(status).append(")");
        List<String> fields = errors.stream()
                .map(e -> (e.field() == null || e.field().isEmpty() ? "(body)" : e.field()) + ": " + e.message()).toList();
        // A single bad field is also the detail; print it once.
        boolean detailIsTheField = fields.size() == 1 && fields.getFirst().equals(detail);
        if (detail != null && !detail.isBlank() && !detailIsTheField) b.append(": ").append(detail);
        else if ((detail == null || detail.isBlank()) && title != null) b.append(": ").append(title);
        for (String f : fields) b.append("\n  ").append(f);
        if (userAction != null && !userAction.isBlank()) b.append("\n  ").append(userAction);
        return b.toString();
    }
}

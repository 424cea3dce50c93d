package dev.kiln.cli;

import java.util.List;

/** A failure the CLI reports as one message and an exit code (see {@link Exit}); never a stack trace. */
class CliException extends RuntimeException {
    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }

    /** Bad command line or input file. */
    static CliException usage(String message) {
        return new CliException(Exit.USAGE, message);
    }

    /** The server cannot be reached at all. */
    static final class Unreachable extends CliException {
        Unreachable(String url, Throwable cause) {
            super(Exit.UNREACHABLE, "cannot reach Kiln at " + url + " (" + describe(cause) + ")."
                    + "\n  Is it running? Start it with ./kiln serve, or point --url (or KILN_URL) at it.");
        }

        private static String describe(Throwable t) {
            if (t instanceof java.net.ConnectException && t.getMessage() == null) return "connection refused";
            if (t instanceof java.net.http.HttpConnectTimeoutException) return "no answer to the connection within 5 s";
            String m = t.getMessage();
            String name = t.getClass().getSimpleName();
            return m == null || m.isBlank() ? name : name + ": " + m;
        }
    }

    /** The server answered with an error: its problem+json, printed with the fields at fault. */
    static final class Refused extends CliException {
        private final int status;
        private final Problem problem;

        Refused(String what, int status, Problem problem) {
            super(Exit.REFUSED, what + ": " + problem.describe());
            this.status = status;
            this.problem = problem;
        }

        int status() {
            return status;
        }

        Problem problem() {
            return problem;
        }

        String code() {
            return problem.code();
        }

        List<Problem.FieldError> errors() {
            return problem.errors();
        }
    }
}

package dev.kiln.api;

import java.io.IOException;
import java.io.Writer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tomcat's error page for requests it refuses before any servlet runs (a path with {@code %00} or
 * broken percent-encoding, a malformed request line): problem+json like every other error, not
 * Tomcat's HTML page. Installed on the host in place of the stock valve by {@link WebConfig}.
 */
final class ProblemErrorValve extends ErrorReportValve {
    private final JsonMapper json;

    ProblemErrorValve(JsonMapper json) {
        this.json = json;
        setShowReport(false);
        setShowServerInfo(false);
    }

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0) return;
        AtomicBoolean ioAllowed = new AtomicBoolean();
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
        if (!ioAllowed.get()) return;
        String detail = status == 400
                ? "the request is malformed (for example a path with %00 or broken percent-encoding)"
                : ErrorEndpoint.detailFor(status);
        try {
            response.setContentType("application/problem+json");
            response.setCharacterEncoding("UTF-8");
            Writer w = response.getReporter();
            if (w == null) return;
            w.write(json.writeValueAsString(ErrorEndpoint.problemFor(status, detail)));
            response.finishResponse();
        } catch (IOException | IllegalStateException e) {
            // The client went away; there is no one to tell.
        }
    }
}

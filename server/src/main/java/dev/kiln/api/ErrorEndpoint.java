package dev.kiln.api;

import dev.kiln.support.ErrorCode;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /error}, where the servlet container sends failures that never reached a controller (a
 * filter's or Tomcat's {@code sendError}): the same problem+json as everywhere else, instead of
 * Spring Boot's own error JSON.
 */
@RestController
class ErrorEndpoint implements ErrorController {

    @RequestMapping("/error")
    ResponseEntity<Problem> error(HttpServletRequest req) {
        Object s = req.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        if (s == null) return ProblemHandler.of(ErrorCode.NOT_FOUND, "no such path: /error");
        int status = s instanceof Integer i && i >= 400 ? i : 500;
        return ResponseEntity.status(status).contentType(ProblemHandler.PROBLEM).body(problemFor(status, detailFor(status)));
    }

    static String detailFor(int status) {
        ErrorCode code = codeFor(status);
        return code == ErrorCode.INTERNAL ? "an unexpected error occurred" : "the request was refused (" + status + ")";
    }

    /** A problem for a bare status: its error code where one has that status, and the status kept as it was. */
    static Problem problemFor(int status, String detail) {
        ErrorCode code = codeFor(status);
        return new Problem("https://kiln.dev/problems/" + code.wire().replace('_', '-'), code.title(), status, detail, code.wire(),
                List.of(), null, null);
    }

    private static ErrorCode codeFor(int status) {
        for (ErrorCode c : ErrorCode.values()) {
            if (c.status() == status && c != ErrorCode.INVALID_JSON) return c;
        }
        return status < 500 ? ErrorCode.INVALID_REQUEST : ErrorCode.INTERNAL;
    }
}

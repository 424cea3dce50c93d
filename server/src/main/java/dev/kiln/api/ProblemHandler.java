package dev.kiln.api;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import dev.kiln.support.KilnException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.multipart.MaxUploadSizeExceededException;
import org.springframework.web.multipart.MultipartException;
import org.springframework.web.multipart.support.MissingServletRequestPartException;
import org.springframework.web.servlet.resource.NoResourceFoundException;
import org.springframework.http.converter.HttpMessageNotReadableException;
import tools.jackson.databind.json.JsonMapper;

/** Maps every failure to one problem+json answer. Nothing internal (stack traces, SQL) reaches a client. */
@RestControllerAdvice
class ProblemHandler {
    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);
    static final MediaType PROBLEM = MediaType.APPLICATION_PROBLEM_JSON;

    @ExceptionHandler(KilnException.class)
    ResponseEntity<Problem> kiln(KilnException e) {
        ResponseEntity.BodyBuilder b = ResponseEntity.status(e.code().status()).contentType(PROBLEM);
        if (e.retryAfter() != null) b.header(HttpHeaders.RETRY_AFTER, String.valueOf(Math.max(1, e.retryAfter().toSeconds())));
        return b.body(Problem.of(e.code(), e.getMessage(), e.errors(), e.errorCount(), e.userAction()));
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<Problem> unreadable(HttpMessageNotReadableException e) {
        return of(ErrorCode.INVALID_JSON, "the request body is missing or is not valid JSON");
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    ResponseEntity<Problem> mediaType(HttpMediaTypeNotSupportedException e) {
        String supported = e.getSupportedMediaTypes().isEmpty() ? "application/json" : MediaType.toString(e.getSupportedMediaTypes());
        return of(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type " + (e.getContentType() == null ? "(none)" : e.getContentType())
                + " is not supported here; send " + supported);
    }

    @ExceptionHandler(HttpMediaTypeNotAcceptableException.class)
    ResponseEntity<Problem> notAcceptable(HttpMediaTypeNotAcceptableException e) {
        return of(ErrorCode.NOT_ACCEPTABLE, "this resource cannot be returned in the format the Accept header asks for");
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<Problem> method(HttpRequestMethodNotSupportedException e) {
        return of(ErrorCode.METHOD_NOT_ALLOWED, e.getMethod() + " is not allowed here; allowed: "
                + String.join(", ", e.getSupportedMethods() == null ? new String[0] : e.getSupportedMethods()));
    }

    @ExceptionHandler(NoResourceFoundException.class)
    ResponseEntity<Problem> noResource(NoResourceFoundException e) {
        return of(ErrorCode.NOT_FOUND, "no such path: /" + e.getResourcePath());
    }

    @ExceptionHandler(MaxUploadSizeExceededException.class)
    ResponseEntity<Problem> tooLarge(MaxUploadSizeExceededException e) {
        return of(ErrorCode.TOO_LARGE, "the upload is larger than allowed (KILN_MAX_UPLOAD)");
    }

    @ExceptionHandler(MissingServletRequestPartException.class)
    ResponseEntity<Problem> missingPart(MissingServletRequestPartException e) {
        return validation(e.getRequestPartName(), "is required (multipart form field)");
    }

    @ExceptionHandler(MultipartException.class)
    ResponseEntity<Problem> multipart(MultipartException e) {
        return of(ErrorCode.INVALID_JSON, "the multipart request is malformed");
    }

    @ExceptionHandler(MissingServletRequestParameterException.class)
    ResponseEntity<Problem> missingParam(MissingServletRequestParameterException e) {
        return validation(e.getParameterName(), "is required");
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<Problem> typeMismatch(MethodArgumentTypeMismatchException e) {
        return validation(e.getName(), "has an invalid value");
    }

    /** Tomcat's own refusal of a query string it cannot decode (the query filter normally answers first). */
    @ExceptionHandler(org.apache.tomcat.util.http.InvalidParameterException.class)
    ResponseEntity<Problem> badParameters(org.apache.tomcat.util.http.InvalidParameterException e) {
        return of(ErrorCode.INVALID_REQUEST, "the query string is not valid percent-encoded UTF-8");
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Problem> unexpected(Exception e, HttpServletRequest req) {
        if (e instanceof org.springframework.web.context.request.async.AsyncRequestNotUsableException) return null;
        log.error("unexpected error on {} {}", req.getMethod(), req.getRequestURI(), e);
        return of(ErrorCode.INTERNAL, "an unexpected error occurred; it has been logged");
    }

    /**
     * Writes a problem straight to the response, for the filters and the container's error valve,
     * which answer before Spring MVC (and this advice) is reached.
     */
    static void write(HttpServletResponse res, JsonMapper json, ErrorCode code, String detail, List<FieldError> errors)
            throws IOException {
        res.setStatus(code.status());
        res.setContentType(PROBLEM.toString());
        res.setCharacterEncoding("UTF-8");
        res.getWriter().write(json.writeValueAsString(Problem.of(code, detail, errors, null)));
    }

    static ResponseEntity<Problem> of(ErrorCode code, String detail) {
        return ResponseEntity.status(code.status()).contentType(PROBLEM).body(Problem.of(code, detail, List.of(), null));
    }

    private static ResponseEntity<Problem> validation(String field, String message) {
        return ResponseEntity.status(422).contentType(PROBLEM)
                .body(Problem.of(ErrorCode.VALIDATION_FAILED, field + ": " + message, List.of(new FieldError(field, message)), null));
    }
}

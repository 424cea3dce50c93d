package dev.kiln.api;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.util.Optional;
import org.springframework.core.MethodParameter;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.support.WebDataBinderFactory;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.method.support.ModelAndViewContainer;

/**
 * Gives a controller method its {@link Caller}: the one {@code dev.kiln.user.Identity} resolved
 * for this request in {@link SecurityConfig}'s filter. A {@code Caller} parameter makes the route
 * need one (401 otherwise, saying what was wrong with the credentials sent); an
 * {@code Optional<Caller>} lets the route decide (signed asset URLs).
 */
@Component
class CallerResolver implements HandlerMethodArgumentResolver {
    static final String ATTRIBUTE = "dev.kiln.caller";
    static final String PROBLEM = "dev.kiln.auth-problem";
    static final String REQUIRED = "authentication required: log in (session cookie), or send an API key or session token as"
            + " 'Authorization: Bearer <secret>' or 'X-API-Key: <secret>' (admins: x-admin-key)";

    @Override
    public boolean supportsParameter(MethodParameter p) {
        return p.getParameterType() == Caller.class
                || (p.getParameterType() == Optional.class && p.nestedIfOptional().getNestedParameterType() == Caller.class);
    }

    @Override
    public Object resolveArgument(MethodParameter p, ModelAndViewContainer m, NativeWebRequest req, WebDataBinderFactory f) {
        Caller caller = (Caller) req.getAttribute(ATTRIBUTE, RequestAttributes.SCOPE_REQUEST);
        if (p.getParameterType() == Optional.class) return Optional.ofNullable(caller);
        if (caller == null) {
            Object problem = req.getAttribute(PROBLEM, RequestAttributes.SCOPE_REQUEST);
            throw new KilnException(ErrorCode.UNAUTHORIZED, problem != null ? problem.toString() : REQUIRED);
        }
        return caller;
    }
}

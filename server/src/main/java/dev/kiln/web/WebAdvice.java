package dev.kiln.web;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import dev.kiln.user.Identity;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.ModelAttribute;

/**
 * What every page of the web UI shares: who is looking (for the navigation), the CSRF token a
 * session-cookie caller's forms carry, and errors shown as a page rather than problem+json (a
 * missing login becomes a redirect to {@code /login}).
 */
@ControllerAdvice(basePackageClasses = WebAdvice.class)
@Order(Ordered.HIGHEST_PRECEDENCE)
class WebAdvice {
    private final Identity identity;

    WebAdvice(Identity identity) {
        this.identity = identity;
    }

    @ModelAttribute
    void common(Optional<Caller> caller, HttpServletRequest req, Model model) {
        model.addAttribute("me", caller.orElse(null));
        model.addAttribute("authOn", !identity.local());
        String csrf = null;
        if (caller.isPresent() && caller.get().via() == Caller.Via.SESSION_COOKIE
                && req.getAttribute(CsrfToken.class.getName()) instanceof CsrfToken t) {
            csrf = t.getToken();
        }
        model.addAttribute("csrf", csrf);
        String path = req.getRequestURI();
        model.addAttribute("section", path.equals("/") || path.equals("/runs") && req.getMethod().equals("POST") ? "generate"
                : path.startsWith("/runs") ? "runs" : path.startsWith("/library") ? "library" : path.startsWith("/manage") ? "manage" : "");
    }

    @ExceptionHandler(KilnException.class)
    String failed(KilnException e, Optional<Caller> caller, HttpServletRequest req, HttpServletResponse res, Model model) {
        if (e.code() == ErrorCode.UNAUTHORIZED) {
            String next = req.getRequestURI() + (req.getQueryString() == null ? "" : "?" + req.getQueryString());
            String login = "/login?next=" + URLEncoder.encode(next, StandardCharsets.UTF_8);
            if (req.getHeader("HX-Request") != null) {
                res.setHeader("HX-Redirect", login);
                res.setStatus(204);
                return null;
            }
            return "redirect:" + login;
        }
        common(caller, req, model);
        res.setStatus(e.code().status());
        model.addAttribute("status", e.code().status());
        model.addAttribute("message", e.getMessage());
        return "web/error";
    }

    /** The caller, or a redirect to the login page. */
    static Caller need(Optional<Caller> caller) {
        return caller.orElseThrow(() -> new KilnException(ErrorCode.UNAUTHORIZED, "log in to see this page"));
    }

    static Caller needAdmin(Optional<Caller> caller) {
        Caller c = need(caller);
        if (!c.isAdmin()) throw new KilnException(ErrorCode.FORBIDDEN, "only an admin may see this page");
        return c;
    }
}

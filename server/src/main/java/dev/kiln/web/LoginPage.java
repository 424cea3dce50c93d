package dev.kiln.web;

import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import dev.kiln.user.Identity;
import dev.kiln.user.LoginThrottle;
import dev.kiln.user.Sessions;
import dev.kiln.user.User;
import dev.kiln.user.Users;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Optional;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

/**
 * Logging in and out of the web UI with a username and password when {@code KILN_AUTH=on}: the
 * same sessions as {@code POST /v1/auth/login} (an HttpOnly cookie; writes then carry the
 * session's CSRF token, which every form of the UI includes), and the same throttle on failures.
 */
@Controller
class LoginPage {
    private final Identity identity;
    private final Users users;
    private final Sessions sessions;
    private final LoginThrottle throttle;

    LoginPage(Identity identity, Users users, Sessions sessions, LoginThrottle throttle) {
        this.identity = identity;
        this.users = users;
        this.sessions = sessions;
        this.throttle = throttle;
    }

    @GetMapping("/login")
    String page(Optional<Caller> caller, @RequestParam(required = false) String next, Model view) {
        if (identity.local()) return "redirect:/";
        view.addAttribute("next", safe(next));
        view.addAttribute("username", "");
        return "web/login";
    }

    @PostMapping("/login")
    String login(Optional<Caller> caller, @RequestParam(defaultValue = "") String username, @RequestParam(defaultValue = "") String password,
                 @RequestParam(required = false) String next, HttpServletRequest req, HttpServletResponse res, Model view) {
        if (identity.local()) return "redirect:/";
        view.addAttribute("next", safe(next));
        view.addAttribute("username", username);
        try {
            throttle.check(username, req.getRemoteAddr());
        } catch (KilnException e) {
            res.setStatus(e.code().status());
            view.addAttribute("error", e.getMessage());
            return "web/login";
        }
        Optional<User> u = users.authenticate(username, password);
        if (u.isEmpty()) {
            throttle.failed(username, req.getRemoteAddr());
            res.setStatus(ErrorCode.UNAUTHORIZED.status());
            view.addAttribute("error", "Wrong username or password.");
            return "web/login";
        }
        sessions.open(u.get().id(), caller.orElse(null), Sessions.DEFAULT_COOKIE, req, res);
        return "redirect:" + safe(next);
    }

    @PostMapping("/logout")
    String logout(Optional<Caller> caller, HttpServletRequest req, HttpServletResponse res) {
        sessions.close(caller.orElse(null), req, res);
        return "redirect:/login";
    }

    /** Only a path on this site: never a redirect elsewhere. */
    private static String safe(String next) {
        return next != null && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
    }
}

package dev.kiln.api;

import dev.kiln.config.KilnProperties;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.springframework.core.MethodParameter;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.support.WebDataBinderFactory;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.method.support.ModelAndViewContainer;

/**
 * Resolves the {@link Caller} of a request. {@code KILN_AUTH=local} (the default on a loopback
 * address) is one implicit admin; it is refused at start-up on any other address. With
 * {@code KILN_AUTH=on}, requests must carry the {@code x-admin-key}; user accounts, sessions and
 * API keys (SPEC §5) plug in here.
 */
@Component
class CallerResolver implements HandlerMethodArgumentResolver {
    private final boolean local;
    private final byte[] adminKey;

    CallerResolver(KilnProperties props, Environment env) {
        String bind = env.getProperty("server.address", "127.0.0.1");
        String mode = props.auth() == null || props.auth().isBlank() ? (loopback(bind) ? "local" : "on") : props.auth().trim();
        if (!mode.equals("local") && !mode.equals("on")) throw new IllegalStateException("KILN_AUTH must be local or on, got '" + mode + "'");
        if (mode.equals("local") && !loopback(bind)) {
            throw new IllegalStateException("KILN_AUTH=local gives every caller admin rights, so it is only allowed on a loopback "
                    + "address; KILN_BIND is " + bind + ". Set KILN_AUTH=on (and KILN_ADMIN_KEY) or bind to 127.0.0.1.");
        }
        this.local = mode.equals("local");
        this.adminKey = props.adminKey() == null ? null : props.adminKey().getBytes(StandardCharsets.UTF_8);
    }

    /** Handles {@code Caller} (required) and {@code Optional<Caller>} (for routes that also accept signed URLs). */
    @Override
    public boolean supportsParameter(MethodParameter p) {
        return p.getParameterType() == Caller.class
                || (p.getParameterType() == java.util.Optional.class && p.nestedIfOptional().getNestedParameterType() == Caller.class);
    }

    @Override
    public Object resolveArgument(MethodParameter p, ModelAndViewContainer m, NativeWebRequest req, WebDataBinderFactory f) {
        if (p.getParameterType() == java.util.Optional.class) {
            try {
                return java.util.Optional.of(resolve(req));
            } catch (KilnException e) {
                return java.util.Optional.empty();
            }
        }
        return resolve(req);
    }

    private Caller resolve(NativeWebRequest req) {
        if (local) return Caller.LOCAL_ADMIN;
        String key = req.getHeader("x-admin-key");
        if (adminKey != null && key != null && MessageDigest.isEqual(adminKey, key.getBytes(StandardCharsets.UTF_8))) {
            return new Caller("usr_admin", "admin");
        }
        throw new KilnException(ErrorCode.UNAUTHORIZED, "authentication required: send the x-admin-key header");
    }

    static boolean loopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}

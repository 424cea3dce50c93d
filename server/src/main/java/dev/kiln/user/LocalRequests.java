package dev.kiln.user;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * What makes a request "local" in {@code KILN_AUTH=local}, where a loopback request is the admin:
 * its {@code Host} must be a loopback name, and an {@code Origin}, if sent, must be one too (or an
 * origin the operator allowed in {@code KILN_CORS_ORIGINS}). Without these checks a web page the
 * user visits could act as the local admin: by DNS rebinding (its own name resolving to
 * 127.0.0.1 — the request then carries that name as Host) or by posting from the browser (the
 * request then carries the page's Origin). Names are compared as written, never resolved:
 * resolution is what the attacker controls.
 */
public final class LocalRequests {
    private LocalRequests() {}

    /** Whether a Host header value (name or address, with an optional port) is a loopback name. */
    public static boolean loopbackHost(String host) {
        if (host == null || host.isBlank()) return false;
        String h = host.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            if (end < 0) return false;
            String rest = h.substring(end + 1);
            if (!rest.isEmpty() && !rest.matches(":[0-9]{1,5}")) return false;
            return h.substring(1, end).equals("::1");
        }
        int colon = h.lastIndexOf(':');
        if (colon >= 0) {
            if (!h.substring(colon + 1).matches("[0-9]{1,5}")) return false;
            h = h.substring(0, colon);
        }
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        // RFC 6761 §6.3: localhost and every name under it are loopback.
        if (h.equals("localhost") || h.endsWith(".localhost")) return true;
        // 127.0.0.0/8 written as a dotted quad (the only form browsers send in Host).
        String[] parts = h.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("127")) return false;
        for (String p : parts) {
            if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > 255) return false;
        }
        return true;
    }

    /** Whether an Origin header is absent, a loopback origin, or one the operator allowed. */
    public static boolean allowedOrigin(String origin, List<String> corsOrigins) {
        if (origin == null) return true;
        String o = origin.trim();
        if (corsOrigins.contains(o.replaceAll("/+$", ""))) return true;
        // "null" is what sandboxed frames and file: pages send: not a loopback page.
        if (o.equalsIgnoreCase("null")) return false;
        try {
            URI u = URI.create(o);
            if (!"http".equalsIgnoreCase(u.getScheme()) && !"https".equalsIgnoreCase(u.getScheme())) return false;
            if (u.getRawAuthority() == null) return false;
            return loopbackHost(u.getRawAuthority());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}

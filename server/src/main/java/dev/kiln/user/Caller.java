package dev.kiln.user;

/**
 * Who is calling the API: the owner of what they create. Built only by {@link Identity} (and
 * tests); {@code via} says which credential proved it, {@code credentialId} which session or API
 * key it was (null for the admin key and local mode).
 */
public record Caller(String id, String role, String username, Via via, String credentialId) {
    /** The implicit admin of local mode. */
    public static final Caller LOCAL_ADMIN = new Caller("usr_local", "admin", "local", Via.LOCAL, null);

    /** How a caller proved who they are. */
    public enum Via {
        /** {@code KILN_AUTH=local}: every loopback request is the one implicit admin. */
        LOCAL,
        /** the {@code x-admin-key} header */
        ADMIN_KEY,
        /** a session cookie: writes need the session's CSRF token */
        SESSION_COOKIE,
        /** a session token sent as {@code Authorization: Bearer} or {@code X-API-Key} */
        SESSION_TOKEN,
        /** an API key, as {@code Authorization: Bearer} or {@code X-API-Key} */
        API_KEY
    }

    public Caller(String id, String role) {
        this(id, role, null, Via.API_KEY, null);
    }

    public boolean isAdmin() {
        return "admin".equals(role);
    }

    /** Whether this caller may see or change something owned by {@code ownerId}. */
    public boolean owns(String ownerId) {
        return isAdmin() || id.equals(ownerId);
    }

    /**
     * Whether submissions are paid for in credits. Local mode's implicit admin is the only one
     * who is not: it has no account, and a single-user install has nobody to bill.
     */
    public boolean metered() {
        return via != Via.LOCAL;
    }

    /** Whether the caller came with a session (cookie or token), which logout ends. */
    public boolean hasSession() {
        return via == Via.SESSION_COOKIE || via == Via.SESSION_TOKEN;
    }
}

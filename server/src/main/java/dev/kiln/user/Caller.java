package dev.kiln.user;

/** Who is calling the API: the owner of what they create. */
public record Caller(String id, String role) {
    /** The implicit admin of local mode (SPEC §5). */
    public static final Caller LOCAL_ADMIN = new Caller("usr_local", "admin");

    public boolean isAdmin() {
        return "admin".equals(role);
    }

    /** Whether this caller may see or change something owned by {@code ownerId}. */
    public boolean owns(String ownerId) {
        return isAdmin() || id.equals(ownerId);
    }
}

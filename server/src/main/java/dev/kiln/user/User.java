package dev.kiln.user;

import java.time.Instant;

/** A user: the owner of runs, jobs and assets, with the role {@code user} or {@code admin}. */
public record User(String id, String username, String role, Long telegramId, String telegramUsername, String displayName,
                   boolean hasPassword, Instant createdAt) {
    public static final String USER = "user";
    public static final String ADMIN = "admin";
}

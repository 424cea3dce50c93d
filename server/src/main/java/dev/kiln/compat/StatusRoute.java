package dev.kiln.compat;

import dev.kiln.user.Caller;
import org.springframework.http.ResponseEntity;

/**
 * One façade's answer to {@code GET /status/{id}}, a path several seed systems share. Kiln
 * records which API created each run and job ({@code origin}), so {@link SharedStatus} asks the
 * façade that created the object to render it.
 */
public interface StatusRoute {
    /** The façade id whose objects this renders (the {@code origin} of its runs and jobs). */
    String origin();

    /**
     * The façade's status answer for a run or job it created. The route checks that the caller
     * may see it (a stranger's id answers as an unknown one).
     */
    ResponseEntity<?> status(Caller caller, String id);
}

package dev.kiln.engine;

import dev.kiln.support.Ids;
import org.springframework.stereotype.Component;

/** This process, as a lease owner: unique per start, so a restarted process never mistakes old leases for its own. */
@Component
public class Instance {
    private final String id = "kiln-" + ProcessHandle.current().pid() + "-" + Ids.secretToken().substring(0, 8);

    public String id() {
        return id;
    }
}

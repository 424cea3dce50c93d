package dev.kiln.support;

import com.github.f4b6a3.ulid.UlidCreator;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Identifiers: a type prefix plus a time-ordered ULID, so ids sort by creation (cursor paging). */
public final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ids() {}

    public static String newId(String prefix) {
        return prefix + "_" + UlidCreator.getMonotonicUlid().toLowerCase();
    }

    /** An unguessable token (256 bits, hex). */
    public static String secretToken() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}

package dev.kiln.emulator.support;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Unguessable tokens for the keys and secrets an emulator hands out. */
public final class Tokens {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {}

    /** 256 random bits, hex. */
    public static String secret() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}

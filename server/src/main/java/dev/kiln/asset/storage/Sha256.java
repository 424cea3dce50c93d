package dev.kiln.asset.storage;

import java.util.regex.Pattern;

/** Blob names: lower-case hex SHA-256, stored as {@code assets/<first two>/<hash>} in every backend. */
public final class Sha256 {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

    private Sha256() {}

    public static boolean isValid(String s) {
        return s != null && HEX.matcher(s).matches();
    }

    /** Refuses anything but a hash: these names become file paths and object keys. */
    public static String check(String s) {
        if (!isValid(s)) throw new IllegalArgumentException("not a sha256 hash: " + s);
        return s;
    }

    /** The path of a blob below the store's root, the same for a folder and a bucket. */
    public static String relativePath(String sha256) {
        check(sha256);
        return "assets/" + sha256.substring(0, 2) + "/" + sha256;
    }
}

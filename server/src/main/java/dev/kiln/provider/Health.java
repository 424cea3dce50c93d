package dev.kiln.provider;

/** The result of an account health check. */
public record Health(boolean ok, String message) {
    public static Health ok(String message) { return new Health(true, message); }
    public static Health failed(String message) { return new Health(false, message); }
}

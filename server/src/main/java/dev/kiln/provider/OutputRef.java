package dev.kiln.provider;

/**
 * One output of a finished remote job: a URL to download (followed wherever it points), or data
 * the provider returned inline (base64, with or without a {@code data:} prefix).
 */
public record OutputRef(String url, String base64, String mime, String filename) {

    public static OutputRef url(String url) {
        return new OutputRef(url, null, null, null);
    }

    public static OutputRef inline(String base64, String mime, String filename) {
        return new OutputRef(null, base64, mime, filename);
    }

    public boolean isInline() {
        return base64 != null;
    }

    @Override
    public String toString() {
        return isInline() ? "OutputRef[inline " + base64.length() + " chars]" : "OutputRef[" + url + "]";
    }
}

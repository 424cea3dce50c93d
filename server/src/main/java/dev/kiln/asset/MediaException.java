package dev.kiln.asset;

/**
 * Bytes that Kiln will not accept as media: not an image or video it recognises, undecodable,
 * too many pixels, too large, or a URL it refuses to fetch. The message is one sentence written
 * for the client, without internals, and reads well after a field name (e.g. {@code "is larger
 * than 20 MB"}), so it can go straight into a field error or a job's error message.
 */
public class MediaException extends RuntimeException {

    public MediaException(String message) {
        super(message, null, false, false);
    }

    static MediaException tooLarge(long maxBytes) {
        return new MediaException("is larger than " + humanSize(maxBytes));
    }

    /** "20 MB", "512 KB" or "1000 bytes": binary units, written exactly when they divide evenly. */
    static String humanSize(long bytes) {
        if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) return bytes / (1024 * 1024) + " MB";
        if (bytes >= 1024 && bytes % 1024 == 0) return bytes / 1024 + " KB";
        return bytes + " bytes";
    }
}

package dev.kiln.provider;

import java.io.IOException;
import java.io.InputStream;

/**
 * An input image already stored by Kiln (validated, decodable). Adapters send it the way their
 * provider wants it: uploaded, as a data URI, or as {@link #publicUrl()} when Kiln is reachable.
 */
public record InputImage(
        String assetId, String sha256, String mime, long size, Integer width, Integer height,
        String publicUrl, Opener opener) {

    /** Opens the stored bytes. */
    @FunctionalInterface
    public interface Opener {
        InputStream open() throws IOException;
    }

    public InputStream open() throws IOException {
        return opener.open();
    }

    public byte[] bytes() throws IOException {
        try (InputStream in = open()) {
            return in.readAllBytes();
        }
    }

    /** A file name with an extension matching the MIME type, unique per content. */
    public String fileName() {
        String ext = switch (mime) {
            case "image/jpeg" -> "jpg";
            case "image/webp" -> "webp";
            case "image/gif" -> "gif";
            default -> "png";
        };
        return sha256.substring(0, 16) + "." + ext;
    }
}

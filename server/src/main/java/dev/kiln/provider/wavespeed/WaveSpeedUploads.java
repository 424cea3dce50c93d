package dev.kiln.provider.wavespeed;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/** Reads WaveSpeed's upload answers (docs/PROVIDERS.md, "WaveSpeed", uploads). */
final class WaveSpeedUploads {
    private WaveSpeedUploads() {}

    /**
     * Where a direct upload goes: {@code data.upload} {@code {method, url, headers}} and
     * {@code data.download_url}, as wavespeed-python's and wavespeed-java's {@code Client.upload} read them.
     */
    record Ticket(String method, String url, Map<String, String> headers, String downloadUrl) {}

    /** The ticket of a {@code POST /api/v3/media/uploads} answer, or null when it lacks a URL to put to or to download from. */
    static Ticket ticket(JsonNode data) {
        JsonNode upload = data.path("upload");
        String url = upload.path("url").asString("");
        String download = data.path("download_url").asString("");
        if (!isHttp(url) || !isHttp(download)) return null;
        // The Java SDK defaults to PUT; the Python SDK insists on it.
        String method = upload.path("method").asString("PUT").toUpperCase(Locale.ROOT);
        if (!method.equals("PUT") && !method.equals("POST")) return null;
        Map<String, String> headers = new LinkedHashMap<>();
        upload.path("headers").properties().forEach(e -> {
            // Headers the HTTP client sets itself, and any credential, are not copied.
            String name = e.getKey();
            if (!name.equalsIgnoreCase("Content-Length") && !name.equalsIgnoreCase("Host")
                    && !name.equalsIgnoreCase("Authorization") && e.getValue().isValueNode()) {
                headers.put(name, e.getValue().asString());
            }
        });
        return new Ticket(method, url, headers, download);
    }

    /**
     * The file URL of a {@code /media/upload/binary} answer: {@code download_url} as the SDKs read it,
     * or {@code url}, which another version of WaveSpeed's upload docs shows; null when neither is an HTTP URL.
     */
    static String fileUrl(JsonNode data) {
        for (String field : new String[] {"download_url", "url"}) {
            String v = data.path(field).asString("");
            if (isHttp(v)) return v;
        }
        return null;
    }

    private static boolean isHttp(String url) {
        return url.startsWith("https://") || url.startsWith("http://");
    }
}

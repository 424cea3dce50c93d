package dev.kiln.asset;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import dev.kiln.asset.storage.BlobStore;
import dev.kiln.asset.storage.StorageUnavailableException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.springframework.http.CacheControl;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;

/**
 * {@code /v1/assets}: upload an input image, read an asset's bytes or its thumbnail, from any
 * instance (the bytes come from the shared store). Assets of other users answer 404, exactly like
 * assets that do not exist, so ids cannot be probed.
 */
@RestController
class AssetController {
    /** Bytes under a hash never change, so clients may keep them for good. */
    private static final CacheControl IMMUTABLE = CacheControl.maxAge(365, TimeUnit.DAYS).cachePrivate().immutable();

    private final AssetService assets;

    AssetController(AssetService assets) {
        this.assets = assets;
    }

    /** The asset as the API shows it. */
    record AssetView(
            String id, String mime, long size, Integer width, Integer height, String sha256, String url,
            @JsonProperty("thumbnail_url") String thumbnailUrl,
            @JsonProperty("created_at") Instant createdAt) {

        static AssetView of(Asset a) {
            String url = "/v1/assets/" + a.id();
            return new AssetView(a.id(), a.mime(), a.size(), a.width(), a.height(), a.sha256(), url,
                    a.hasThumbnail() ? url + "/thumbnail" : null, a.createdAt());
        }
    }

    @PostMapping(path = "/v1/assets", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    ResponseEntity<AssetView> upload(Caller caller, @RequestParam(name = "file", required = false) MultipartFile file) {
        Asset a = assets.upload(caller.id(), file);
        AssetView view = AssetView.of(a);
        return ResponseEntity.created(URI.create(view.url())).body(view);
    }

    /**
     * The bytes of an asset, from whatever instance stored them: streamed from the store with
     * single byte ranges honoured (videos are seeked), or, with KILN_S3_PRESIGN, a redirect to a
     * short-lived URL at the bucket itself.
     */
    @GetMapping("/v1/assets/{id}")
    void bytes(java.util.Optional<Caller> caller, @PathVariable String id,
               @RequestParam(required = false) Long exp, @RequestParam(required = false) String sig,
               HttpServletRequest request, HttpServletResponse response) throws IOException {
        // A signed URL (given to providers for input images) needs no credentials; anything else does.
        Asset a = sig != null && assets.verifySignature(id, exp, sig)
                ? assets.find(id).orElseThrow(() -> KilnException.notFound("asset", id))
                : visible(caller.orElseThrow(() -> new KilnException(ErrorCode.UNAUTHORIZED, "authentication required")), id);
        serve(a.sha256(), a.size(), a.mime(), a.id(), request, response);
    }

    @GetMapping("/v1/assets/{id}/thumbnail")
    void thumbnail(Caller caller, @PathVariable String id, HttpServletRequest request, HttpServletResponse response) throws IOException {
        Asset a = visible(caller, id);
        if (!a.hasThumbnail()) throw new KilnException(ErrorCode.NOT_FOUND, "asset '" + id + "' has no thumbnail");
        serve(a.thumbSha256(), a.thumbSha256().equals(a.sha256()) ? a.size() : -1, a.thumbMime(), a.id() + "-thumbnail", request, response);
    }

    private Asset visible(Caller caller, String id) {
        return assets.find(id).filter(a -> caller.owns(a.ownerId()))
                .orElseThrow(() -> KilnException.notFound("asset", id));
    }

    /**
     * Writes a blob as the answer. Everything that can fail (a missing blob, a store that does not
     * answer) fails before the status line is sent, so it still becomes a problem+json answer.
     *
     * @param size the blob's size when known (from its row), else -1 (a thumbnail: asked of the store)
     */
    private void serve(String sha, long size, String mime, String name, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        // Only raster images and videos are shown in place; anything else goes out as opaque bytes to download.
        boolean inline = INLINE.contains(mime);
        String type = inline ? mime : MediaType.APPLICATION_OCTET_STREAM_VALUE;
        String disposition = (inline ? ContentDisposition.inline() : ContentDisposition.attachment())
                .filename(name + extension(mime)).build().toString();
        response.setHeader(HttpHeaders.ETAG, "\"" + sha + "\"");
        if (matches(request.getHeader(HttpHeaders.IF_NONE_MATCH), sha)) {
            response.setHeader(HttpHeaders.CACHE_CONTROL, IMMUTABLE.getHeaderValue());
            response.setStatus(HttpStatus.NOT_MODIFIED.value());
            return;
        }
        java.util.Optional<URI> presigned = assets.presigned(sha, type, disposition);
        if (presigned.isPresent()) {
            // The URL expires: the redirect itself must not be cached longer than it lives.
            response.setHeader(HttpHeaders.CACHE_CONTROL, "private, no-store");
            response.setHeader(HttpHeaders.LOCATION, presigned.get().toString());
            response.setStatus(HttpStatus.FOUND.value());
            return;
        }
        if (size < 0) size = assets.store().stat(sha).map(BlobStore.BlobStat::size).orElseThrow(() -> missing(name));
        Range range = Range.of(request.getHeader(HttpHeaders.RANGE), request.getHeader(HttpHeaders.IF_RANGE), sha, size);
        response.setHeader(HttpHeaders.ACCEPT_RANGES, "bytes");
        if (range == Range.UNSATISFIABLE) {
            response.setHeader(HttpHeaders.CONTENT_RANGE, "bytes */" + size);
            throw new KilnException(ErrorCode.RANGE_NOT_SATISFIABLE, "the range " + request.getHeader(HttpHeaders.RANGE)
                    + " is outside the " + size + " bytes of this file");
        }
        long from = range == null ? 0 : range.from(), length = range == null ? size : range.length();
        InputStream in;
        try {
            in = assets.open(sha, from, length);
        } catch (BlobStore.BlobMissingException e) {
            throw missing(name);
        } catch (StorageUnavailableException e) {
            throw new KilnException(ErrorCode.STORAGE_UNAVAILABLE, "the storage holding this file does not answer; try again shortly",
                    java.util.List.of(), java.time.Duration.ofSeconds(5), null);
        }
        try (in) {
            response.setHeader(HttpHeaders.CACHE_CONTROL, IMMUTABLE.getHeaderValue());
            response.setContentType(type);
            response.setHeader(HttpHeaders.CONTENT_DISPOSITION, disposition);
            response.setHeader("X-Content-Type-Options", "nosniff");
            response.setHeader("Content-Security-Policy", "sandbox");
            response.setContentLengthLong(length);
            if (range != null) {
                response.setStatus(HttpStatus.PARTIAL_CONTENT.value());
                response.setHeader(HttpHeaders.CONTENT_RANGE, "bytes " + from + "-" + (from + length - 1) + "/" + size);
            }
            if (!"HEAD".equals(request.getMethod())) in.transferTo(response.getOutputStream());
        }
    }

    private static KilnException missing(String name) {
        // The row is there but its bytes are not (removed by hand, or a delete race): say so
        // rather than fail with an internal error.
        return new KilnException(ErrorCode.NOT_FOUND, "the file of asset '" + name + "' is missing from storage");
    }

    /**
     * One byte range of a {@code Range: bytes=...} header (RFC 9110 §14). Several ranges, or a
     * range whose {@code If-Range} names other bytes, are answered with the whole file, which the
     * RFC allows; a malformed header is ignored the same way.
     */
    record Range(long from, long length) {
        static final Range UNSATISFIABLE = new Range(-1, -1);

        static Range of(String header, String ifRange, String sha, long size) {
            if (header == null || !header.startsWith("bytes=") || header.contains(",")) return null;
            if (ifRange != null && !matches(ifRange, sha)) return null;
            String spec = header.substring(6).strip();
            int dash = spec.indexOf('-');
            if (dash < 0) return null;
            try {
                String a = spec.substring(0, dash).strip(), b = spec.substring(dash + 1).strip();
                if (a.isEmpty()) {
                    // bytes=-N: the last N bytes.
                    if (b.isEmpty()) return null;
                    long n = Long.parseLong(b);
                    if (n <= 0) return UNSATISFIABLE;
                    long len = Math.min(n, size);
                    return new Range(size - len, len);
                }
                long from = Long.parseLong(a);
                long to = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
                if (from < 0 || (!b.isEmpty() && Long.parseLong(b) < from)) return null;
                if (from >= size) return UNSATISFIABLE;
                return new Range(from, to - from + 1);
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    /**
     * The types a browser may show in place: raster images and videos, which run no script. Anything
     * else a provider returned (SVG, HTML, an unknown type) is sent as a download of opaque bytes,
     * and every answer carries {@code Content-Security-Policy: sandbox} and {@code nosniff}, so no
     * stored file can run script with Kiln's origin.
     */
    static final java.util.Set<String> INLINE = java.util.Set.of("image/png", "image/jpeg", "image/webp", "image/gif", "image/avif",
            "image/heic", "video/mp4", "video/webm", "video/quicktime", "video/x-matroska");

    /** Whether an If-None-Match header (a list of strong or weak tags, or *) names this hash. */
    static boolean matches(String ifNoneMatch, String sha) {
        if (ifNoneMatch == null) return false;
        for (String tag : ifNoneMatch.split(",")) {
            String t = tag.strip();
            if (t.equals("*")) return true;
            if (t.startsWith("W/")) t = t.substring(2);
            if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) t = t.substring(1, t.length() - 1);
            if (t.equals(sha)) return true;
        }
        return false;
    }

    private static String extension(String mime) {
        return switch (mime) {
            case "image/png" -> ".png";
            case "image/jpeg" -> ".jpg";
            case "image/webp" -> ".webp";
            case "image/gif" -> ".gif";
            case "image/avif" -> ".avif";
            case "image/heic" -> ".heic";
            case "video/mp4" -> ".mp4";
            case "video/webm" -> ".webm";
            case "video/quicktime" -> ".mov";
            case "video/x-matroska" -> ".mkv";
            default -> "";
        };
    }
}

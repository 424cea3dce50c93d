package dev.kiln.asset;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.springframework.core.io.FileSystemResource;
import org.springframework.core.io.Resource;
import org.springframework.http.CacheControl;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;

/**
 * {@code /v1/assets}: upload an input image, read an asset's bytes or its thumbnail. Assets of
 * other users answer 404, exactly like assets that do not exist, so ids cannot be probed.
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

    @GetMapping("/v1/assets/{id}")
    ResponseEntity<Resource> bytes(java.util.Optional<Caller> caller, @PathVariable String id,
                                   @RequestParam(required = false) Long exp, @RequestParam(required = false) String sig,
                                   @RequestHeader(name = HttpHeaders.IF_NONE_MATCH, required = false) String ifNoneMatch) {
        // A signed URL (given to providers for input images) needs no credentials; anything else does.
        Asset a = sig != null && assets.verifySignature(id, exp, sig)
                ? assets.find(id).orElseThrow(() -> KilnException.notFound("asset", id))
                : visible(caller.orElseThrow(() -> new KilnException(ErrorCode.UNAUTHORIZED, "authentication required")), id);
        return serve(assets.file(a), a.sha256(), a.mime(), ifNoneMatch, a.id());
    }

    @GetMapping("/v1/assets/{id}/thumbnail")
    ResponseEntity<Resource> thumbnail(Caller caller, @PathVariable String id,
                                       @RequestHeader(name = HttpHeaders.IF_NONE_MATCH, required = false) String ifNoneMatch) {
        Asset a = visible(caller, id);
        if (!a.hasThumbnail()) throw new KilnException(ErrorCode.NOT_FOUND, "asset '" + id + "' has no thumbnail");
        return serve(assets.thumbnailFile(a), a.thumbSha256(), a.thumbMime(), ifNoneMatch, a.id() + "-thumbnail");
    }

    private Asset visible(Caller caller, String id) {
        return assets.find(id).filter(a -> caller.owns(a.ownerId()))
                .orElseThrow(() -> KilnException.notFound("asset", id));
    }

    private static ResponseEntity<Resource> serve(Path file, String sha, String mime, String ifNoneMatch, String name) {
        if (matches(ifNoneMatch, sha)) {
            return ResponseEntity.status(HttpStatus.NOT_MODIFIED).eTag(sha).cacheControl(IMMUTABLE).build();
        }
        if (!Files.isRegularFile(file)) {
            // The row is there but its bytes are not (removed by hand, or a delete race): say so
            // rather than fail with an internal error.
            throw new KilnException(ErrorCode.NOT_FOUND, "the file of asset '" + name + "' is missing from storage");
        }
        boolean inline = INLINE.contains(mime);
        return ResponseEntity.ok()
                .eTag(sha)
                .cacheControl(IMMUTABLE)
                .contentType(inline ? MediaType.parseMediaType(mime) : MediaType.APPLICATION_OCTET_STREAM)
                .header(HttpHeaders.CONTENT_DISPOSITION, (inline ? ContentDisposition.inline() : ContentDisposition.attachment())
                        .filename(name + extension(mime)).build().toString())
                .header("X-Content-Type-Options", "nosniff")
                .header("Content-Security-Policy", "sandbox")
                .body(new FileSystemResource(file));
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

package dev.kiln.asset;

import dev.kiln.asset.storage.BlobStore;
import dev.kiln.asset.storage.StorageProperties;
import dev.kiln.asset.storage.StorageUnavailableException;
import dev.kiln.config.KilnProperties;
import dev.kiln.provider.InputImage;
import dev.kiln.support.FieldError;
import dev.kiln.support.Ids;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import jakarta.annotation.PreDestroy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.multipart.MultipartFile;
import tools.jackson.databind.JsonNode;

/**
 * Kiln's storage of images and videos: input images clients send (by URL, data URI, upload or a
 * reference to an asset they already have), job outputs, their thumbnails, and the rows that
 * describe them. Bytes are staged and hashed locally ({@link Staging}), probed there, and then
 * stored as content-addressed blobs in the configured {@link BlobStore} (a local folder or an S3
 * bucket); the {@link BlobLedger} records them for every instance, enforces the quota and removes
 * a blob when the last row that uses it goes.
 *
 * <p>Every input must be a PNG, JPEG, WebP or GIF of at most {@link #MAX_INPUT_BYTES} that decodes
 * completely within the pixel limit (50 megapixels); the MIME type always comes from the bytes.
 */
@Service
public class AssetService {
    private static final Logger log = LoggerFactory.getLogger(AssetService.class);

    /** The largest input image, by URL, data URI or upload. */
    public static final long MAX_INPUT_BYTES = SafeFetcher.DEFAULT_MAX_BYTES;

    private final KilnProperties props;
    private final StorageProperties storage;
    private final AssetRepository repo;
    private final Staging staging;
    private final BlobStore store;
    private final BlobLedger ledger;
    private final TransactionTemplate tx;
    private final MediaProbe probe;
    private final VideoProbes videos;
    private final SafeFetcher fetcher;
    private final byte[] urlKey;

    @Autowired
    public AssetService(KilnProperties props, StorageProperties storage, BlobStore store, JdbcClient jdbc, TransactionTemplate tx,
                        Clock clock) {
        this.props = props;
        this.storage = storage;
        this.repo = new AssetRepository(jdbc);
        this.staging = new Staging(props.dataDir());
        this.store = store;
        this.tx = tx;
        this.ledger = new BlobLedger(jdbc, tx, store, storage.quotaBytes(), clock);
        this.probe = new MediaProbe();
        this.videos = new VideoProbes(storage.probeTimeout(), storage.probeMemory().toBytes());
        this.fetcher = new SafeFetcher(props.allowPrivateUrls());
        // The key is shared through the database, so a link signed by one instance works on every other.
        this.urlKey = new StorageSettings(jdbc).urlKey();
    }

    @PreDestroy
    void stopProbes() {
        videos.close();
    }

    /** The backend the bytes are in. */
    public BlobStore store() {
        return store;
    }

    /** How long a signed asset URL handed to a provider stays valid. */
    static final java.time.Duration SIGNED_URL_LIFETIME = java.time.Duration.ofHours(24);

    /** The signature of a time-limited URL to an asset, so providers can fetch inputs without credentials. */
    String sign(String assetId, long expiresEpochSeconds) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(urlKey, "HmacSHA256"));
            byte[] sig = mac.doFinal((assetId + "." + expiresEpochSeconds).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A signed, time-limited path to an asset's bytes, {@code /v1/assets/{id}?exp=…&sig=…}: whoever
     * holds it may fetch them without credentials until it expires (a page on another origin
     * showing an output, a provider fetching an input). Prefix it with the public base URL.
     */
    public String signedPath(String assetId, java.time.Duration lifetime) {
        long exp = java.time.Instant.now().plus(lifetime).getEpochSecond();
        return "/v1/assets/" + assetId + "?exp=" + exp + "&sig=" + sign(assetId, exp);
    }

    /** Whether {@code sig} is a valid, unexpired signature for the asset. */
    public boolean verifySignature(String assetId, Long expires, String sig) {
        if (expires == null || sig == null || expires < java.time.Instant.now().getEpochSecond()) return false;
        return java.security.MessageDigest.isEqual(sign(assetId, expires).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                sig.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- inputs

    /**
     * Validates and stores the input images of one request field. Each ref is an
     * {@code http(s)://} URL (fetched with SSRF protection), a {@code data:image/…;base64,…} URI, or
     * {@code asset:<id>} naming an image the caller owns (any asset for an admin), which is reused
     * as it is. Each bad ref adds one error named {@code field[index]} to {@code errors}.
     *
     * <p>Nothing is stored when {@code errors} is not empty at the end, including errors other
     * fields added before: all network and decoding work happens first, files and rows are written
     * last. Rows of an earlier call for another field of the same request stay, unless the caller
     * runs both calls in one transaction and rolls it back; their files are then left for
     * {@link #sweepOrphans}.
     *
     * @return the assets in the order of {@code refs}, or an empty list if there are errors
     */
    public List<Asset> ingestInputs(Caller caller, String field, List<String> refs, List<FieldError> errors) {
        List<Prepared> prepared = new ArrayList<>();
        try {
            for (int i = 0; i < refs.size(); i++) {
                try {
                    prepared.add(prepare(caller, refs.get(i)));
                } catch (MediaException e) {
                    errors.add(new FieldError(field + "[" + i + "]", e.getMessage()));
                }
            }
            if (!errors.isEmpty()) return List.of();
            List<Asset> assets = new ArrayList<>(prepared.size());
            for (Prepared p : prepared) assets.add(p.existing() != null ? p.existing() : save(caller.id(), p));
            return assets;
        } finally {
            for (Prepared p : prepared) {
                if (p.staged() != null) p.staged().close();
            }
        }
    }

    /**
     * Stores an uploaded input image ({@code POST /v1/assets}), validated like every input.
     *
     * @throws KilnException 422 on the field {@code file} if it is missing, too large or not an image
     */
    public Asset upload(String ownerId, MultipartFile file) {
        if (file == null || file.isEmpty()) {
            throw KilnException.validation("file", "is required: send the image as the multipart field 'file'");
        }
        if (file.getSize() > MAX_INPUT_BYTES) throw KilnException.validation("file", MediaException.tooLarge(MAX_INPUT_BYTES).getMessage());
        try (InputStream in = file.getInputStream(); Staging.Staged staged = staging.stage(in, MAX_INPUT_BYTES)) {
            return save(ownerId, check(staged));
        } catch (MediaException e) {
            throw KilnException.validation("file", e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the uploaded file", e);
        }
    }

    /** One good input: new bytes staged and checked, or an existing asset. */
    private record Prepared(Staging.Staged staged, MediaProbe.Probe probe, Thumbnails.Thumbnail thumbnail, Asset existing) {}

    private Prepared prepare(Caller caller, String ref) {
        if (ref == null || ref.isBlank()) throw new MediaException("must not be empty");
        String r = ref.strip();
        if (startsWithIgnoreCase(r, "asset:")) return new Prepared(null, null, null, existingInput(caller, r.substring(6).strip()));
        if (startsWithIgnoreCase(r, "http://") || startsWithIgnoreCase(r, "https://")) {
            Staging.Staged staged;
            try {
                staged = fetcher.fetch(r, (in, contentType) -> staging.stage(in, MAX_INPUT_BYTES));
            } catch (IOException e) {
                // stage() only throws IOException for the source, and the fetcher's stream turns
                // every failure of its own into MediaException: this is unreachable in practice.
                throw new MediaException("could not be fetched: the connection failed");
            }
            return checkOrDiscard(staged);
        }
        if (startsWithIgnoreCase(r, "data:")) return checkOrDiscard(decodeDataUri(r));
        throw new MediaException("must be an http(s):// URL, a data:image/…;base64,… URI or asset:<id>");
    }

    private Asset existingInput(Caller caller, String id) {
        Asset a = repo.find(id).filter(x -> caller.owns(x.ownerId()))
                .orElseThrow(() -> new MediaException("refers to asset '" + id + "', which does not exist"));
        if (!MediaProbe.INPUT_IMAGE_TYPES.contains(a.mime())) {
            throw new MediaException("refers to asset '" + id + "', which is " + a.mime() + ", not a PNG, JPEG, WebP or GIF image");
        }
        probe.checkPixels(new MediaProbe.Probe(a.mime(), a.width(), a.height(), null, null, null));
        return a;
    }

    private Staging.Staged decodeDataUri(String uri) {
        int comma = uri.indexOf(',');
        if (comma < 0) throw new MediaException("is not a valid data URI (no comma before the data)");
        String meta = uri.substring(5, comma).strip().toLowerCase(Locale.ROOT);
        if (!meta.startsWith("image/")) throw new MediaException("must be a data:image/…;base64,… URI");
        if (!meta.endsWith(";base64")) throw new MediaException("must be base64-encoded (data:image/…;base64,…)");
        // Four base64 characters make three bytes: refuse the obviously too large before decoding.
        if ((uri.length() - comma - 1) / 4 * 3 > MAX_INPUT_BYTES + 3) throw MediaException.tooLarge(MAX_INPUT_BYTES);
        try {
            return staging.stage(Base64.getDecoder().wrap(new Base64Chars(uri, comma + 1)), MAX_INPUT_BYTES);
        } catch (IOException e) {
            throw new MediaException("is not valid base64");
        }
    }

    /** The base64 part of a data URI as bytes for the decoder, without copying it; line breaks and spaces are skipped. */
    private static final class Base64Chars extends InputStream {
        private final String s;
        private int i;

        Base64Chars(String s, int from) {
            this.s = s;
            this.i = from;
        }

        @Override
        public int read() {
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
                // Anything outside ASCII is invalid base64; '!' makes the decoder say so.
                return c < 0x80 ? c : '!';
            }
            return -1;
        }
    }

    private Prepared checkOrDiscard(Staging.Staged staged) {
        try {
            return check(staged);
        } catch (RuntimeException e) {
            staged.close();
            throw e;
        }
    }

    /** Checks that staged bytes are an input image Kiln accepts, and renders its thumbnail. */
    private Prepared check(Staging.Staged staged) {
        String mime = MediaProbe.sniff(staged.file());
        if (mime == null) throw new MediaException("is not a PNG, JPEG, WebP or GIF image");
        if (!MediaProbe.INPUT_IMAGE_TYPES.contains(mime)) throw new MediaException("is " + mime + ", not a PNG, JPEG, WebP or GIF image");
        MediaProbe.Probe p = probe.probe(staged.file(), mime);
        BufferedImage decoded = probe.decode(staged.file(), p);
        Thumbnails.Thumbnail thumb = Thumbnails.fits(p.width(), p.height()) ? null : Thumbnails.render(decoded, p.width(), p.height());
        return new Prepared(staged, p, thumb, null);
    }

    private Asset save(String ownerId, Prepared p) {
        MediaProbe.Probe m = p.probe();
        try (Staging.Staged thumb = p.thumbnail() == null ? null : staging.stage(p.thumbnail().bytes())) {
            String sha = p.staged().sha256();
            String thumbSha = thumb == null ? sha : thumb.sha256();
            String thumbMime = thumb == null ? m.mime() : p.thumbnail().mime();
            put(p.staged(), thumb);
            return tx.execute(s -> {
                Asset a = repo.insert(new Asset(Ids.newId("ast"), ownerId, Asset.ROLE_INPUT, null, null, sha, m.mime(),
                        p.staged().size(), m.width(), m.height(), null, null, null, thumbSha, thumbMime, false, null, now()));
                ledger.settle(List.of(sha, thumbSha));
                return a;
            });
        }
    }

    private void put(BlobLedger.Hold hold, Staging.Staged blob) {
        if (hold.fresh().contains(blob.sha256())) store.putNew(blob.sha256(), blob.file(), blob.size());
        else store.put(blob.sha256(), blob.file(), blob.size());
    }

    /**
     * Stores staged bytes (and their thumbnail) as blobs: holds them in the ledger (reserving their
     * room under the quota), then puts them in the store. The caller settles the hold in the
     * transaction that inserts the rows using them.
     *
     * @throws StorageFullException when they would pass the quota; nothing was stored
     * @throws StorageUnavailableException when the store failed; nothing was recorded as stored
     */
    private void put(Staging.Staged main, Staging.Staged thumb) {
        Map<String, Long> blobs = new LinkedHashMap<>();
        blobs.put(main.sha256(), main.size());
        if (thumb != null) blobs.put(thumb.sha256(), thumb.size());
        BlobLedger.Hold hold = ledger.hold(blobs);
        try {
            put(hold, main);
            if (thumb != null && !thumb.sha256().equals(main.sha256())) put(hold, thumb);
        } catch (RuntimeException e) {
            ledger.release(hold);
            throw e;
        }
    }

    // ---------------------------------------------------------------- outputs

    /**
     * Stores one output of a job: streams it to disk (checksummed, moved into place atomically),
     * finds its type from its bytes, probes it and makes its thumbnail. No row is written: the job
     * engine inserts it with {@link #insertOutput} in the transaction that marks the job succeeded.
     * Images over the pixel limit, and image types ImageIO cannot read (AVIF, HEIC), are stored
     * without a thumbnail. Videos (MP4, WebM) and animated GIFs get their frames, fps and duration
     * and a poster thumbnail (the first frame) where {@link VideoProbe} can read them; otherwise
     * those stay null.
     *
     * @param contentTypeHint the type the provider sent, used only when the bytes are not
     *     recognised and it names an image or video type
     * @throws MediaException if it is larger than {@code maxBytes}, not recognisable media, or an
     *     image that does not decode (nothing is kept)
     * @throws IOException if reading {@code in} fails (a broken download; worth retrying)
     */
    public StoredMedia storeOutput(InputStream in, String contentTypeHint, long maxBytes) throws IOException {
        try (Staging.Staged staged = staging.stage(in, maxBytes)) {
            String mime = MediaProbe.sniff(staged.file());
            if (mime == null) mime = mediaTypeOf(contentTypeHint);
            MediaProbe.Probe p;
            Thumbnails.Thumbnail thumb = null;
            boolean ownThumbnail = false;
            if (mime.startsWith("video/")) {
                // Facts and poster (the first frame, as a still) from a separate process with a time
                // and memory limit; never fails the output (some codecs have no Java decoder).
                VideoProbes.Result v = videos.probe(staged.file(), mime, probe.maxPixels());
                p = new MediaProbe.Probe(mime, v.width(), v.height(), v.frames(), v.fps(), v.durationMs());
                thumb = v.poster();
            } else {
                p = probe.probe(staged.file(), mime);
            }
            if (!p.isVideo() && p.width() != null && p.height() != null && (long) p.width() * p.height() <= probe.maxPixels()) {
                BufferedImage decoded = probe.decode(staged.file(), p);
                // An animated GIF gets a still poster too, like a video: galleries must not play every clip.
                ownThumbnail = Thumbnails.fits(p.width(), p.height()) && !p.isAnimated();
                if (!ownThumbnail) thumb = Thumbnails.render(decoded, p.width(), p.height());
            }
            try (Staging.Staged thumbStaged = thumb == null ? null : staging.stage(thumb.bytes())) {
                put(staged, thumbStaged);
                String sha = staged.sha256();
                String thumbSha = ownThumbnail ? sha : thumbStaged == null ? null : thumbStaged.sha256();
                String thumbMime = ownThumbnail ? mime : thumb == null ? null : thumb.mime();
                return new StoredMedia(sha, mime, staged.size(), p.width(), p.height(), p.frames(), p.fps(), p.durationMs(),
                        thumbSha, thumbMime);
            }
        }
    }

    /** The provider's type when it names an image or video, else a refusal. */
    private static String mediaTypeOf(String contentTypeHint) {
        String t = contentTypeHint == null ? "" : contentTypeHint.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (t.matches("(image|video)/[a-z0-9][a-z0-9.+-]*")) return t;
        throw new MediaException("is not an image or video Kiln recognises"
                + (t.isEmpty() ? "" : " (it was sent as " + t + ")"));
    }

    /**
     * Inserts the row of a stored output. It joins the caller's transaction; repeating it for the
     * same {@code (jobId, index)} changes nothing and returns the row already there.
     */
    public Asset insertOutput(String jobId, int index, String ownerId, StoredMedia m, boolean sandbox, JsonNode metadata) {
        Asset a = repo.insert(new Asset(Ids.newId("ast"), ownerId, Asset.ROLE_OUTPUT, jobId, index, m.sha256(), m.mime(),
                m.size(), m.width(), m.height(), m.frames(), m.fps(), m.durationMs(), m.thumbSha256(), m.thumbMime(),
                sandbox, metadata, now()));
        ledger.settle(m.thumbSha256() == null ? List.of(m.sha256()) : List.of(m.sha256(), m.thumbSha256()));
        return a;
    }

    /**
     * Refuses new work when the storage quota is used up (507 {@code storage_full}), so a client
     * learns it when submitting rather than from failed jobs.
     */
    public void checkRoom() {
        ledger.checkRoom();
    }

    /** Bytes stored (and being stored) in all, and the quota (-1: none). */
    public long[] usage() {
        return new long[] {ledger.used(), ledger.quota()};
    }

    // ---------------------------------------------------------------- reading

    public Optional<Asset> find(String id) {
        return repo.find(id);
    }

    /** A job's outputs in output order. */
    public List<Asset> outputsOf(String jobId) {
        return repo.listByJob(jobId);
    }

    /**
     * Whether Kiln may call this URL for a client (http(s), and not a loopback, private,
     * link-local or metadata address unless KILN_ALLOW_PRIVATE_URLS): null if so, else the reason.
     */
    public String refusalForCallback(String url) {
        try {
            fetcher.checkDestination(url);
            return null;
        } catch (MediaException e) {
            return e.getMessage();
        }
    }

    /** The outputs of several jobs, by job id (one query per 500 jobs). */
    public java.util.Map<String, List<Asset>> outputsOf(java.util.Collection<String> jobIds) {
        java.util.Map<String, List<Asset>> out = new java.util.HashMap<>();
        List<String> ids = List.copyOf(jobIds);
        for (int i = 0; i < ids.size(); i += 500) {
            for (Asset a : repo.listByJobs(ids.subList(i, Math.min(ids.size(), i + 500)))) {
                out.computeIfAbsent(a.jobId(), k -> new java.util.ArrayList<>()).add(a);
            }
        }
        return out;
    }

    /** An owner's assets, newest first, after {@code cursor} (the last id of the previous page) if given. */
    public List<Asset> listOwned(String ownerId, String cursor, int limit) {
        return repo.listByOwner(ownerId, cursor, limit);
    }

    /** Opens the asset's bytes from {@code offset}, {@code length} of them (negative: to the end). */
    public InputStream open(String sha256, long offset, long length) {
        return store.open(sha256, offset, length);
    }

    /** A short-lived URL to the bytes at the store itself, when KILN_S3_PRESIGN is on and the store can make one. */
    public Optional<java.net.URI> presigned(String sha256, String mime, String disposition) {
        if (storage.type() != StorageProperties.Type.S3 || !storage.s3().presign()) return Optional.empty();
        return store.presignedGet(sha256, storage.s3().presignTtl(), mime, disposition);
    }

    /**
     * The asset as adapters receive an input image. Its public URL is
     * {@code PUBLIC_BASE_URL/v1/assets/{id}} when Kiln is reachable from outside, else null.
     */
    public InputImage toInputImage(Asset a) {
        String base = props.webhookBase();
        long exp = java.time.Instant.now().plus(SIGNED_URL_LIFETIME).getEpochSecond();
        // Signed and time-limited: the provider fetching it has no Kiln credentials.
        String url = base == null ? null : base + "/v1/assets/" + a.id() + "?exp=" + exp + "&sig=" + sign(a.id(), exp);
        return new InputImage(a.id(), a.sha256(), a.mime(), a.size(), a.width(), a.height(), url, () -> store.open(a.sha256(), 0, -1));
    }

    // ---------------------------------------------------------------- deleting

    /** Removes a job's output rows, then the files (and thumbnails) no row uses any more. */
    public void deleteForJob(String jobId) {
        List<Asset> rows = repo.listByJob(jobId);
        repo.deleteByJob(jobId);
        removeFilesWhenUnused(rows);
    }

    /** Removes one asset's row, then its files if no other row uses them. */
    public void delete(Asset a) {
        repo.delete(a.id());
        removeFilesWhenUnused(List.of(a));
    }

    /**
     * Files are removed after the caller's transaction commits (at once without one): a rollback
     * then keeps rows and files together. A file stored again at the very moment it is removed can
     * still be lost (its new row then points at nothing); same bytes being deleted and stored
     * within milliseconds is rare enough to accept.
     */
    private void removeFilesWhenUnused(List<Asset> rows) {
        Set<String> shas = new LinkedHashSet<>();
        for (Asset a : rows) {
            shas.add(a.sha256());
            if (a.thumbSha256() != null) shas.add(a.thumbSha256());
        }
        if (shas.isEmpty()) return;
        // Candidates in the ledger first: if removing the bytes fails now, the janitor finds them.
        ledger.markCandidates(shas);
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    removeUnreferenced(shas);
                }
            });
        } else {
            removeUnreferenced(shas);
        }
    }

    private void removeUnreferenced(Set<String> shas) {
        for (String sha : shas) ledger.collectQuietly(sha);
    }

    /**
     * Housekeeping, for the janitor: removes blobs that no row uses and no writer holds (outputs
     * stored for a job whose success was never recorded because Kiln crashed, blobs whose removal
     * failed while the store was down), blobs in the store the ledger never heard of that are older
     * than {@code minAge}, uploads to a bucket that never finished, and stale temporary files.
     *
     * @return how many blobs were removed
     */
    public int sweepOrphans(Duration minAge) {
        Instant before = Instant.now().minus(minAge);
        int removed = ledger.collectDue() + ledger.adoptStrays(before);
        int aborted = store.abortStaleUploads(before);
        if (aborted > 0) log.info("aborted {} upload(s) to {} that never finished", aborted, store.describe());
        staging.cleanStaleTemp(Instant.now().minus(Staging.STALE_TEMP));
        return removed;
    }

    private static Instant now() {
        // Both databases keep microseconds; truncating here makes the returned row equal the stored one.
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }

    private static boolean startsWithIgnoreCase(String s, String prefix) {
        return s.regionMatches(true, 0, prefix, 0, prefix.length());
    }
}

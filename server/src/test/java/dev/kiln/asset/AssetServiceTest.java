package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.config.KilnProperties;
import dev.kiln.provider.InputImage;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import dev.kiln.testing.TestDatabases;
import dev.kiln.user.Caller;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.mock.web.MockMultipartFile;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.node.ObjectNode;

class AssetServiceTest {
    @TempDir Path dataDir;
    private HikariDataSource ds;
    private JdbcClient jdbc;
    private AssetService service;
    private final List<FieldError> errors = new ArrayList<>();

    private static final Caller ALICE = new Caller("usr_alice", "user");
    private static final Caller BOB = new Caller("usr_bob", "user");

    static KilnProperties props(Path dataDir, String publicBaseUrl, boolean allowPrivate) {
        return new KilnProperties(dataDir, null, null, null, publicBaseUrl, null, null, 0, allowPrivate,
                null, 0, null, null, null, null, null, null);
    }

    @BeforeEach
    void setUp() {
        ds = TestDatabases.h2();
        jdbc = JdbcClient.create(ds);
        service = TestAssets.local(props(dataDir, null, false), ds);
    }

    @AfterEach
    void tearDown() {
        ds.close();
    }

    static String dataUri(String type, byte[] bytes) {
        return "data:" + type + ";base64," + Base64.getEncoder().encodeToString(bytes);
    }

    private Set<String> storedFiles() {
        try (Stream<Path> s = Files.walk(dataDir.resolve("assets"))) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private long rows() {
        return jdbc.sql("SELECT COUNT(*) FROM assets").query(Long.class).single();
    }

    private List<Asset> ingest(Caller caller, String... refs) {
        return service.ingestInputs(caller, "images.reference", List.of(refs), errors);
    }

    // ------------------------------------------------------------ inputs

    @Test
    void aDataUriImageIsStoredWithItsThumbnail() throws Exception {
        byte[] png = TestImages.png(600, 300);
        List<Asset> assets = ingest(ALICE, dataUri("image/png", png));

        assertThat(errors).isEmpty();
        Asset a = assets.getFirst();
        assertThat(a.id()).startsWith("ast_");
        assertThat(a.ownerId()).isEqualTo("usr_alice");
        assertThat(a.role()).isEqualTo(Asset.ROLE_INPUT);
        assertThat(a.jobId()).isNull();
        assertThat(a.sha256()).isEqualTo(StagingTest.sha256(png));
        assertThat(a.mime()).isEqualTo("image/png");
        assertThat(a.size()).isEqualTo(png.length);
        assertThat(a.width()).isEqualTo(600);
        assertThat(a.height()).isEqualTo(300);
        assertThat(a.thumbMime()).isEqualTo("image/jpeg");
        assertThat(a.thumbSha256()).isNotEqualTo(a.sha256());

        assertThat(TestAssets.bytes(service, a.sha256())).isEqualTo(png);
        var thumb = ImageIO.read(new ByteArrayInputStream(TestAssets.bytes(service, a.thumbSha256())));
        assertThat(thumb.getWidth()).isEqualTo(256);
        assertThat(thumb.getHeight()).isEqualTo(128);
        assertThat(service.find(a.id())).contains(a);
        assertThat(storedFiles()).containsExactlyInAnyOrder(a.sha256(), a.thumbSha256());
    }

    @Test
    void aSmallImageIsItsOwnThumbnail() throws Exception {
        Asset a = ingest(ALICE, dataUri("image/gif", TestImages.gif(100, 40))).getFirst();
        assertThat(a.mime()).isEqualTo("image/gif");
        assertThat(a.thumbSha256()).isEqualTo(a.sha256());
        assertThat(a.thumbMime()).isEqualTo("image/gif");
        assertThat(storedFiles()).containsExactly(a.sha256());
    }

    @Test
    void webpAndJpegInputsAreAccepted() {
        List<Asset> assets = ingest(ALICE,
                dataUri("image/webp", TestImages.webpLossless(300, 300)),
                "DATA:IMAGE/JPEG;BASE64," + Base64.getMimeEncoder().encodeToString(TestImages.jpeg(50, 60)));
        assertThat(errors).isEmpty();
        assertThat(assets).extracting(Asset::mime).containsExactly("image/webp", "image/jpeg");
        assertThat(assets.get(1).width()).isEqualTo(50);
    }

    @Test
    void urlsAreFetchedWhenPrivateAddressesAreAllowed() throws Exception {
        byte[] jpeg = TestImages.jpeg(320, 240);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/cat.jpg", ex -> {
            ex.sendResponseHeaders(200, jpeg.length);
            ex.getResponseBody().write(jpeg);
            ex.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/cat.jpg";
            AssetService lan = TestAssets.local(props(dataDir, null, true), ds);
            Asset a = lan.ingestInputs(ALICE, "images.reference", List.of(url), errors).getFirst();
            assertThat(errors).isEmpty();
            assertThat(a.mime()).isEqualTo("image/jpeg");
            assertThat(TestAssets.bytes(lan, a.sha256())).isEqualTo(jpeg);

            // The default refuses the same URL, with a sentence the client can act on.
            assertThat(ingest(ALICE, url)).isEmpty();
            assertThat(errors).containsExactly(new FieldError("images.reference[0]",
                    "refused: 127.0.0.1 is a loopback address; set KILN_ALLOW_PRIVATE_URLS=true to allow"));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void eachBadRefGetsItsOwnErrorAndNothingIsStored() throws Exception {
        List<Asset> assets = ingest(ALICE,
                dataUri("image/png", TestImages.png(400, 400)),
                "data:image/png;base64,@@not*base64@@",
                dataUri("image/png", "just text pretending".getBytes(StandardCharsets.UTF_8)),
                "data:text/plain;base64,aGVsbG8=",
                "data:image/png,rawbytes",
                "data:image/png;base64",
                "ftp://example.com/a.png",
                "s3://bucket/key.png",
                " ",
                dataUri("image/png", Arrays.copyOf(TestImages.png(300, 300), 200)),
                dataUri("image/png", TestImages.pngHeaderOnly(10_000, 10_000)),
                dataUri("image/bmp", TestImages.encode(TestImages.gradient(10, 10, false), "bmp")),
                dataUri("image/png", TestImages.isoMedia("isom")),
                dataUri("image/png", TestImages.png(10, 10)));

        assertThat(assets).isEmpty();
        assertThat(errors).containsExactly(
                new FieldError("images.reference[1]", "is not valid base64"),
                new FieldError("images.reference[2]", "is not a PNG, JPEG, WebP or GIF image"),
                new FieldError("images.reference[3]", "must be a data:image/…;base64,… URI"),
                new FieldError("images.reference[4]", "must be base64-encoded (data:image/…;base64,…)"),
                new FieldError("images.reference[5]", "is not a valid data URI (no comma before the data)"),
                new FieldError("images.reference[6]", "must be an http(s):// URL, a data:image/…;base64,… URI or asset:<id>"),
                new FieldError("images.reference[7]", "must be an http(s):// URL, a data:image/…;base64,… URI or asset:<id>"),
                new FieldError("images.reference[8]", "must not be empty"),
                new FieldError("images.reference[9]", "could not be decoded as a PNG image (damaged or truncated)"),
                new FieldError("images.reference[10]", "is 10000×10000 pixels (100 megapixels), more than the limit of 50 megapixels"),
                new FieldError("images.reference[11]", "is not a PNG, JPEG, WebP or GIF image"),
                new FieldError("images.reference[12]", "is video/mp4, not a PNG, JPEG, WebP or GIF image"));
        assertThat(rows()).isZero();
        assertThat(storedFiles()).isEmpty();
        assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
    }

    @Test
    void errorsOfOtherFieldsAlsoStopStoring() throws Exception {
        errors.add(new FieldError("params.width", "must be at most 2048"));
        assertThat(ingest(ALICE, dataUri("image/png", TestImages.png(10, 10)))).isEmpty();
        assertThat(errors).hasSize(1);
        assertThat(rows()).isZero();
        assertThat(storedFiles()).isEmpty();
    }

    @Test
    void aDataUriOverTwentyMegabytesIsRefused() {
        byte[] big = new byte[21 * 1024 * 1024];
        ingest(ALICE, dataUri("image/png", big));
        assertThat(errors).containsExactly(new FieldError("images.reference[0]", "is larger than 20 MB"));
    }

    @Test
    void assetRefsReuseTheCallersOwnImages() {
        Asset mine = ingest(ALICE, dataUri("image/png", TestImages.png(10, 10))).getFirst();

        assertThat(ingest(ALICE, "asset:" + mine.id())).containsExactly(mine);
        assertThat(service.ingestInputs(Caller.LOCAL_ADMIN, "images.reference", List.of("asset:" + mine.id()), errors))
                .containsExactly(mine);
        assertThat(errors).isEmpty();
        assertThat(rows()).isEqualTo(1);

        assertThat(ingest(BOB, "asset:" + mine.id(), "asset:ast_nope")).isEmpty();
        assertThat(errors).containsExactly(
                new FieldError("images.reference[0]", "refers to asset '" + mine.id() + "', which does not exist"),
                new FieldError("images.reference[1]", "refers to asset 'ast_nope', which does not exist"));
    }

    @Test
    void assetRefsMustBeImages() throws IOException {
        StoredMedia video = service.storeOutput(new ByteArrayInputStream(TestImages.isoMedia("isom")), "video/mp4", 1000);
        Asset out = service.insertOutput("job_1", 0, "usr_alice", video, false, null);
        ingest(ALICE, "asset:" + out.id());
        assertThat(errors).containsExactly(new FieldError("images.reference[0]",
                "refers to asset '" + out.id() + "', which is video/mp4, not a PNG, JPEG, WebP or GIF image"));
    }

    // ------------------------------------------------------------ uploads

    @Test
    void uploadsAreValidatedLikeEveryInput() {
        byte[] png = TestImages.png(300, 200);
        Asset a = service.upload("usr_alice", new MockMultipartFile("file", "cat.png", "application/octet-stream", png));
        assertThat(a.mime()).isEqualTo("image/png");
        assertThat(a.ownerId()).isEqualTo("usr_alice");
        assertThat(TestAssets.bytes(service, a.sha256())).isEqualTo(png);

        assertThatThrownBy(() -> service.upload("usr_alice", new MockMultipartFile("file", "x.png", "image/png", "text".getBytes())))
                .isInstanceOfSatisfying(KilnException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.VALIDATION_FAILED);
                    assertThat(e.errors()).containsExactly(new FieldError("file", "is not a PNG, JPEG, WebP or GIF image"));
                });
        assertThatThrownBy(() -> service.upload("usr_alice", new MockMultipartFile("file", new byte[0])))
                .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.errors().getFirst().field()).isEqualTo("file"));
        assertThatThrownBy(() -> service.upload("usr_alice", null)).isInstanceOf(KilnException.class);
        assertThat(rows()).isEqualTo(1);
    }

    // ------------------------------------------------------------ outputs

    @Test
    void outputsAreStoredWithoutARowUntilInserted() throws Exception {
        byte[] png = TestImages.png(1024, 512);
        StoredMedia m = service.storeOutput(new ByteArrayInputStream(png), "image/png", 10_000_000);

        assertThat(m.sha256()).isEqualTo(StagingTest.sha256(png));
        assertThat(m.mime()).isEqualTo("image/png");
        assertThat(m.size()).isEqualTo(png.length);
        assertThat(m.width()).isEqualTo(1024);
        assertThat(m.height()).isEqualTo(512);
        assertThat(m.thumbMime()).isEqualTo("image/jpeg");
        assertThat(storedFiles()).containsExactlyInAnyOrder(m.sha256(), m.thumbSha256());
        assertThat(rows()).isZero();

        ObjectNode meta = Json.object().put("model", "sandbox-image").put("seed", 7);
        Asset a = service.insertOutput("job_1", 0, "usr_alice", m, true, meta);
        assertThat(a.role()).isEqualTo(Asset.ROLE_OUTPUT);
        assertThat(a.jobId()).isEqualTo("job_1");
        assertThat(a.outputIndex()).isZero();
        assertThat(a.sandbox()).isTrue();
        assertThat(a.metadata()).isEqualTo(meta);
        assertThat(a.thumbSha256()).isEqualTo(m.thumbSha256());

        assertThat(service.insertOutput("job_1", 0, "usr_alice", m, true, meta)).isEqualTo(a);
        assertThat(service.outputsOf("job_1")).containsExactly(a);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"mp4,video/mp4", "webm,video/webm", "gif,image/gif"})
    void videoOutputsRecordFramesRateDurationAndAStillPoster(String format, String mime) throws IOException {
        byte[] clip = dev.kiln.emulator.render.SandboxVideoRenderer.render(format, 320, 160, 24, 16, "a kiln at dusk", 8);
        StoredMedia m = service.storeOutput(new ByteArrayInputStream(clip), null, 10_000_000);
        assertThat(m.mime()).isEqualTo(mime);
        assertThat(m.width()).isEqualTo(320);
        assertThat(m.height()).isEqualTo(160);
        assertThat(m.frames()).isEqualTo(24);
        assertThat(m.fps()).isCloseTo(16.0, org.assertj.core.data.Offset.offset(0.3));
        assertThat(m.durationMs()).isBetween(1490L, 1510L);
        assertThat(service.insertOutput("job_v", 0, "usr_alice", m, true, null).frames()).isEqualTo(24);
        if (format.equals("webm")) {
            assertThat(m.thumbSha256()).as("no pure-Java decoder reads jcodec's VP8").isNull();
            return;
        }
        // The poster: a still JPEG of the first frame, scaled to the thumbnail size.
        assertThat(m.thumbMime()).isEqualTo("image/jpeg");
        assertThat(m.thumbSha256()).isNotEqualTo(m.sha256());
        Asset a = service.outputsOf("job_v").getFirst();
        java.awt.image.BufferedImage poster = javax.imageio.ImageIO.read(new ByteArrayInputStream(TestAssets.bytes(service, a.thumbSha256())));
        assertThat(poster.getWidth()).isEqualTo(256);
        assertThat(poster.getHeight()).isEqualTo(128);
        assertThat(service.find(a.id()).orElseThrow()).extracting(Asset::frames, Asset::durationMs).containsExactly(24, m.durationMs());
    }

    @Test
    void videoOutputsKeepTheirTypeWhenTheyCannotBeRead() throws IOException {
        StoredMedia mp4 = service.storeOutput(new ByteArrayInputStream(TestImages.isoMedia("mp42")), null, 1000);
        assertThat(mp4).isEqualTo(new StoredMedia(mp4.sha256(), "video/mp4", 32, null, null, null, null, null, null, null));
        StoredMedia webm = service.storeOutput(new ByteArrayInputStream(TestImages.ebml("webm")), "application/octet-stream", 1000);
        assertThat(webm.mime()).isEqualTo("video/webm");
    }

    @Test
    void unrecognisedOutputsAreTakenOnlyWhenTheProviderNamesAMediaType() throws IOException {
        byte[] html = "<html>quota exceeded</html>".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> service.storeOutput(new ByteArrayInputStream(html), "text/html; charset=utf-8", 1000))
                .isInstanceOf(MediaException.class).hasMessage("is not an image or video Kiln recognises (it was sent as text/html)");
        assertThatThrownBy(() -> service.storeOutput(new ByteArrayInputStream(html), null, 1000))
                .isInstanceOf(MediaException.class).hasMessage("is not an image or video Kiln recognises");
        assertThat(storedFiles()).isEmpty();
        assertThat(dataDir.resolve("tmp")).isEmptyDirectory();

        StoredMedia exr = service.storeOutput(new ByteArrayInputStream(new byte[] {0x76, 0x2f, 0x31, 0x01}), "image/x-exr", 1000);
        assertThat(exr.mime()).isEqualTo("image/x-exr");
        assertThat(exr.thumbSha256()).isNull();
    }

    @Test
    void brokenOrOversizedOutputsAreRefusedAndNotKept() throws IOException {
        byte[] png = TestImages.png(400, 400);
        assertThatThrownBy(() -> service.storeOutput(new ByteArrayInputStream(Arrays.copyOf(png, png.length / 2)), "image/png", 1_000_000))
                .isInstanceOf(MediaException.class).hasMessageStartingWith("could not be decoded as a PNG image");
        assertThatThrownBy(() -> service.storeOutput(new ByteArrayInputStream(png), "image/png", 100))
                .isInstanceOf(MediaException.class).hasMessage("is larger than 100 bytes");
        assertThat(storedFiles()).isEmpty();
        assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
    }

    @Test
    void outputsOverThePixelLimitAreKeptWithoutAThumbnail() throws IOException {
        StoredMedia m = service.storeOutput(new ByteArrayInputStream(TestImages.pngHeaderOnly(10_000, 10_000)), "image/png", 1000);
        assertThat(m.width()).isEqualTo(10_000);
        assertThat(m.thumbSha256()).isNull();
        assertThat(storedFiles()).containsExactly(m.sha256());
    }

    // ------------------------------------------------------------ input images for adapters

    @Test
    void inputImagesCarryThePublicUrlWhenKilnIsReachable() throws IOException {
        byte[] png = TestImages.png(10, 10);
        Asset a = ingest(ALICE, dataUri("image/png", png)).getFirst();

        InputImage local = service.toInputImage(a);
        assertThat(local.publicUrl()).isNull();
        assertThat(local.bytes()).isEqualTo(png);
        assertThat(local).extracting(InputImage::assetId, InputImage::sha256, InputImage::mime, InputImage::size, InputImage::width)
                .containsExactly(a.id(), a.sha256(), "image/png", (long) png.length, 10);

        AssetService reachable = TestAssets.local(props(dataDir, "https://kiln.example.com/", false), ds);
        String url = reachable.toInputImage(a).publicUrl();
        assertThat(url).startsWith("https://kiln.example.com/v1/assets/" + a.id() + "?exp=").contains("&sig=");
        java.util.Map<String, String> q = new java.util.HashMap<>();
        for (String kv : url.substring(url.indexOf('?') + 1).split("&")) q.put(kv.split("=")[0], kv.split("=")[1]);
        assertThat(reachable.verifySignature(a.id(), Long.parseLong(q.get("exp")), q.get("sig"))).isTrue();
    }

    // ------------------------------------------------------------ deleting

    @Test
    void deletingAJobRemovesFilesNoOtherRowUses() throws Exception {
        byte[] shared = TestImages.png(600, 600);
        Asset input = ingest(ALICE, dataUri("image/png", shared)).getFirst();
        StoredMedia own = service.storeOutput(new ByteArrayInputStream(TestImages.jpeg(700, 300)), "image/jpeg", 10_000_000);
        StoredMedia same = service.storeOutput(new ByteArrayInputStream(shared), "image/png", 10_000_000);
        service.insertOutput("job_1", 0, "usr_alice", own, false, null);
        service.insertOutput("job_1", 1, "usr_alice", same, false, null);
        assertThat(storedFiles()).containsExactlyInAnyOrder(input.sha256(), input.thumbSha256(), own.sha256(), own.thumbSha256());

        service.deleteForJob("job_1");

        assertThat(service.outputsOf("job_1")).isEmpty();
        assertThat(storedFiles()).containsExactlyInAnyOrder(input.sha256(), input.thumbSha256());

        service.delete(input);
        assertThat(storedFiles()).isEmpty();
        assertThat(service.find(input.id())).isEmpty();
    }

    @Test
    void filesGoOnlyWhenTheDeletingTransactionCommits() throws Exception {
        TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
        StoredMedia m = service.storeOutput(new ByteArrayInputStream(TestImages.png(300, 300)), "image/png", 10_000_000);
        service.insertOutput("job_1", 0, "usr_alice", m, false, null);

        tx.executeWithoutResult(status -> {
            service.deleteForJob("job_1");
            assertThat(storedFiles()).hasSize(2); // still there inside the transaction
            status.setRollbackOnly();
        });
        assertThat(service.outputsOf("job_1")).hasSize(1);
        assertThat(storedFiles()).containsExactlyInAnyOrder(m.sha256(), m.thumbSha256());

        tx.executeWithoutResult(status -> service.deleteForJob("job_1"));
        assertThat(service.outputsOf("job_1")).isEmpty();
        assertThat(storedFiles()).isEmpty();
    }

    @Test
    void sweepRemovesBlobsWhoseWriterNeverCommittedOnceTheirHoldExpires() throws Exception {
        TestAssets.MovableClock clock = new TestAssets.MovableClock();
        AssetService svc = TestAssets.service(props(dataDir, null, false), dev.kiln.asset.storage.StorageProperties.local(),
                new dev.kiln.asset.storage.local.LocalBlobStore(dataDir), ds, clock);
        // Stored, then Kiln "crashed" before the row went in: nothing but the ledger knows it.
        StoredMedia orphan = svc.storeOutput(new ByteArrayInputStream(TestImages.png(100, 100)), "image/png", 1_000_000);
        StoredMedia kept = svc.storeOutput(new ByteArrayInputStream(TestImages.png(120, 100)), "image/png", 1_000_000);
        svc.insertOutput("job_1", 0, "usr_alice", kept, false, null);
        assertThat(svc.sweepOrphans(Duration.ofDays(1))).as("the writer may still commit").isZero();

        clock.advance(BlobLedger.HOLD.plusMinutes(1));
        StoredMedia recent = svc.storeOutput(new ByteArrayInputStream(TestImages.png(140, 100)), "image/png", 1_000_000);

        assertThat(svc.sweepOrphans(Duration.ofDays(1))).isEqualTo(1);
        assertThat(storedFiles()).containsExactlyInAnyOrder(kept.sha256(), recent.sha256());
        assertThat(svc.usage()[0]).isEqualTo(kept.size() + recent.size());
    }

    @Test
    void sweepAlsoRemovesOldFilesTheLedgerNeverHeardOf() throws Exception {
        StoredMedia kept = service.storeOutput(new ByteArrayInputStream(TestImages.png(120, 100)), "image/png", 1_000_000);
        service.insertOutput("job_1", 0, "usr_alice", kept, false, null);
        byte[] stray = "left by an old version".getBytes(StandardCharsets.UTF_8);
        String sha = StagingTest.sha256(stray);
        Path file = Files.createDirectories(dataDir.resolve("assets").resolve(sha.substring(0, 2))).resolve(sha);
        Files.write(file, stray);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Path young = Files.createDirectories(dataDir.resolve("assets").resolve("ab")).resolve("ab" + "0".repeat(62));
        Files.write(young, stray);
        for (Path p : List.of(dataDir.resolve("assets").resolve(kept.sha256().substring(0, 2)).resolve(kept.sha256()))) {
            Files.setLastModifiedTime(p, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        }

        assertThat(service.sweepOrphans(Duration.ofDays(1))).isEqualTo(1);
        assertThat(file).doesNotExist();
        assertThat(young).as("younger than the grace period").exists();
        assertThat(storedFiles()).contains(kept.sha256());
    }
}

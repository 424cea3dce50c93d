package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.multipart;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.support.KilnException;
import dev.kiln.testing.TestDatabases;
import dev.kiln.user.Caller;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.core.MethodParameter;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.mock.web.MockMultipartFile;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.bind.support.WebDataBinderFactory;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.method.support.ModelAndViewContainer;

/**
 * The controller over MockMvc without a Spring Boot context. The caller comes from a test header
 * and errors are mapped by a minimal stand-in for Kiln's problem handler.
 */
class AssetControllerTest {
    @TempDir Path dataDir;
    private HikariDataSource ds;
    private AssetService service;
    private MockMvc mvc;

    /** Stands in for Kiln's resolver: {@code X-Test-Caller: id:role}. */
    static final class HeaderCaller implements HandlerMethodArgumentResolver {
        @Override
        public boolean supportsParameter(MethodParameter p) {
            return p.getParameterType() == Caller.class
                    || (p.getParameterType() == java.util.Optional.class && p.nestedIfOptional().getNestedParameterType() == Caller.class);
        }

        @Override
        public Object resolveArgument(MethodParameter p, ModelAndViewContainer m, NativeWebRequest request, WebDataBinderFactory f) {
            String h = request.getHeader("X-Test-Caller");
            Caller c = h == null ? null : new Caller(h.split(":")[0], h.split(":")[1]);
            return p.getParameterType() == java.util.Optional.class ? java.util.Optional.ofNullable(c) : c;
        }
    }

    @RestControllerAdvice
    static final class Problems {
        @ExceptionHandler(KilnException.class)
        ResponseEntity<Map<String, Object>> handle(KilnException e) {
            return ResponseEntity.status(e.code().status()).body(Map.of("code", e.code().wire(), "detail", e.getMessage(),
                    "errors", e.errors().stream().map(x -> Map.of("field", x.field(), "message", x.message())).toList()));
        }
    }

    @BeforeEach
    void setUp() {
        ds = TestDatabases.h2();
        service = TestAssets.local(AssetServiceTest.props(dataDir, null, false), ds);
        mvc = MockMvcBuilders.standaloneSetup(new AssetController(service))
                .setCustomArgumentResolvers(new HeaderCaller())
                .setControllerAdvice(new Problems())
                .build();
    }

    @AfterEach
    void tearDown() {
        ds.close();
    }

    private Asset upload(String owner, byte[] png) {
        return service.upload(owner, new MockMultipartFile("file", png));
    }

    @Test
    void uploadAnswers201WithTheAsset() throws Exception {
        byte[] png = TestImages.png(400, 200);
        MvcResult r = mvc.perform(multipart("/v1/assets").file(new MockMultipartFile("file", "cat.png", "image/png", png))
                        .header("X-Test-Caller", "usr_alice:user"))
                .andExpect(status().isCreated())
                .andExpect(jsonPath("$.mime").value("image/png"))
                .andExpect(jsonPath("$.size").value(png.length))
                .andExpect(jsonPath("$.width").value(400))
                .andExpect(jsonPath("$.height").value(200))
                .andExpect(jsonPath("$.sha256").value(StagingTest.sha256(png)))
                .andExpect(jsonPath("$.created_at").isString())
                .andReturn();
        String id = com.jayway.jsonpath.JsonPath.read(r.getResponse().getContentAsString(), "$.id");
        assertThat(id).startsWith("ast_");
        assertThat(r.getResponse().getHeader("Location")).isEqualTo("/v1/assets/" + id);
        assertThat(com.jayway.jsonpath.JsonPath.<String>read(r.getResponse().getContentAsString(), "$.url")).isEqualTo("/v1/assets/" + id);
        assertThat(com.jayway.jsonpath.JsonPath.<String>read(r.getResponse().getContentAsString(), "$.thumbnail_url"))
                .isEqualTo("/v1/assets/" + id + "/thumbnail");
        assertThat(service.find(id)).get().extracting(Asset::ownerId).isEqualTo("usr_alice");
    }

    @Test
    void uploadOfSomethingElseIs422OnTheFileField() throws Exception {
        mvc.perform(multipart("/v1/assets").file(new MockMultipartFile("file", "a.png", "image/png", "<svg/>".getBytes()))
                        .header("X-Test-Caller", "usr_alice:user"))
                .andExpect(status().isUnprocessableContent())
                .andExpect(jsonPath("$.errors[0].field").value("file"))
                .andExpect(jsonPath("$.errors[0].message").value("is not a PNG, JPEG, WebP or GIF image"));
        mvc.perform(multipart("/v1/assets").file(new MockMultipartFile("other", "a.png", "image/png", TestImages.png(5, 5)))
                        .header("X-Test-Caller", "usr_alice:user"))
                .andExpect(status().isUnprocessableContent())
                .andExpect(jsonPath("$.errors[0].field").value("file"));
    }

    @Test
    void servesTheBytesWithTypeAndImmutableCaching() throws Exception {
        byte[] png = TestImages.png(300, 300);
        Asset a = upload("usr_alice", png);

        mvc.perform(get("/v1/assets/" + a.id()).header("X-Test-Caller", "usr_alice:user"))
                .andExpect(status().isOk())
                .andExpect(content().contentType("image/png"))
                .andExpect(content().bytes(png))
                .andExpect(header().string("ETag", "\"" + a.sha256() + "\""))
                .andExpect(header().string("Cache-Control", "max-age=31536000, private, immutable"))
                .andExpect(header().string("X-Content-Type-Options", "nosniff"));
    }

    /**
     * A provider may return SVG or HTML (a hostile or broken one, or a node that writes text); served
     * inline under Kiln's origin that would run script. Only raster images and videos are shown in
     * place; anything else is a download of opaque bytes, and every answer is sandboxed.
     */
    @Test
    void onlyRasterImagesAndVideosAreServedInline() throws Exception {
        Map<String, String> hostile = Map.of(
                "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(document.domain)</script></svg>",
                "image/x-html", "<html><script>alert(1)</script></html>",
                "image/x-unknown", "<script>alert(2)</script>");
        for (Map.Entry<String, String> e : hostile.entrySet()) {
            StoredMedia m = service.storeOutput(new ByteArrayInputStream(e.getValue().getBytes()), e.getKey(), 10_000);
            Asset a = service.insertOutput("job_" + e.getKey().hashCode(), 0, "usr_alice", m, false, null);
            assertThat(a.mime()).isEqualTo(e.getKey());
            MvcResult r = mvc.perform(get("/v1/assets/" + a.id()).header("X-Test-Caller", "usr_alice:user"))
                    .andExpect(status().isOk())
                    .andExpect(content().contentType("application/octet-stream"))
                    .andExpect(header().string("X-Content-Type-Options", "nosniff"))
                    .andExpect(header().string("Content-Security-Policy", "sandbox"))
                    .andReturn();
            assertThat(r.getResponse().getHeader("Content-Disposition")).as(e.getKey()).startsWith("attachment;");
        }

        Asset png = upload("usr_alice", TestImages.png(20, 20));
        MvcResult r = mvc.perform(get("/v1/assets/" + png.id()).header("X-Test-Caller", "usr_alice:user"))
                .andExpect(content().contentType("image/png"))
                .andExpect(header().string("Content-Security-Policy", "sandbox"))
                .andReturn();
        assertThat(r.getResponse().getHeader("Content-Disposition")).startsWith("inline;");
    }

    @Test
    void aMatchingIfNoneMatchIs304() throws Exception {
        Asset a = upload("usr_alice", TestImages.png(30, 30));
        for (String tag : List.of("\"" + a.sha256() + "\"", "W/\"" + a.sha256() + "\"", "\"other\", \"" + a.sha256() + "\"", "*")) {
            mvc.perform(get("/v1/assets/" + a.id()).header("X-Test-Caller", "usr_alice:user").header("If-None-Match", tag))
                    .andExpect(status().isNotModified())
                    .andExpect(header().string("ETag", "\"" + a.sha256() + "\""))
                    .andExpect(content().bytes(new byte[0]));
        }
        mvc.perform(get("/v1/assets/" + a.id()).header("X-Test-Caller", "usr_alice:user").header("If-None-Match", "\"other\""))
                .andExpect(status().isOk());
    }

    @Test
    void servesTheThumbnail() throws Exception {
        Asset big = upload("usr_alice", TestImages.png(1000, 500));
        MvcResult r = mvc.perform(get("/v1/assets/" + big.id() + "/thumbnail").header("X-Test-Caller", "usr_alice:user"))
                .andExpect(status().isOk())
                .andExpect(content().contentType("image/jpeg"))
                .andExpect(header().string("ETag", "\"" + big.thumbSha256() + "\""))
                .andReturn();
        var img = javax.imageio.ImageIO.read(new ByteArrayInputStream(r.getResponse().getContentAsByteArray()));
        assertThat(img.getWidth()).isEqualTo(256);

        Asset small = upload("usr_alice", TestImages.png(40, 40));
        mvc.perform(get("/v1/assets/" + small.id() + "/thumbnail").header("X-Test-Caller", "usr_alice:user"))
                .andExpect(status().isOk())
                .andExpect(content().contentType("image/png"))
                .andExpect(content().bytes(TestAssets.bytes(service, small.sha256())));
    }

    @Test
    void unreadableVideosHaveNoThumbnail() throws Exception {
        StoredMedia m = service.storeOutput(new ByteArrayInputStream(TestImages.isoMedia("isom")), null, 1000);
        Asset v = service.insertOutput("job_1", 0, "usr_alice", m, false, null);
        mvc.perform(get("/v1/assets/" + v.id()).header("X-Test-Caller", "usr_alice:user"))
                .andExpect(status().isOk()).andExpect(content().contentType("video/mp4"));
        mvc.perform(get("/v1/assets/" + v.id() + "/thumbnail").header("X-Test-Caller", "usr_alice:user"))
                .andExpect(status().isNotFound())
                .andExpect(jsonPath("$.detail").value("asset '" + v.id() + "' has no thumbnail"));
    }

    @Test
    void othersAssetsLookLikeMissingOnesButAdminsSeeAll() throws Exception {
        Asset a = upload("usr_alice", TestImages.png(30, 30));
        for (String path : List.of("/v1/assets/" + a.id(), "/v1/assets/" + a.id() + "/thumbnail")) {
            mvc.perform(get(path).header("X-Test-Caller", "usr_bob:user"))
                    .andExpect(status().isNotFound())
                    .andExpect(jsonPath("$.code").value("not_found"))
                    .andExpect(jsonPath("$.detail").value("asset '" + a.id() + "' does not exist"));
            mvc.perform(get(path).header("X-Test-Caller", "usr_root:admin")).andExpect(status().isOk());
        }
        mvc.perform(get("/v1/assets/ast_nope").header("X-Test-Caller", "usr_alice:user"))
                .andExpect(status().isNotFound())
                .andExpect(jsonPath("$.detail").value("asset 'ast_nope' does not exist"));
    }

    @Test
    void servesByteRangesForSeeking() throws Exception {
        byte[] png = TestImages.png(300, 300);
        Asset a = upload("usr_alice", png);
        String url = "/v1/assets/" + a.id();
        mvc.perform(get(url).header("X-Test-Caller", "usr_alice:user").header("Range", "bytes=2-5"))
                .andExpect(status().isPartialContent())
                .andExpect(header().string("Content-Range", "bytes 2-5/" + png.length))
                .andExpect(header().string("Accept-Ranges", "bytes"))
                .andExpect(header().longValue("Content-Length", 4))
                .andExpect(content().bytes(java.util.Arrays.copyOfRange(png, 2, 6)));
        mvc.perform(get(url).header("X-Test-Caller", "usr_alice:user").header("Range", "bytes=-3"))
                .andExpect(status().isPartialContent())
                .andExpect(content().bytes(java.util.Arrays.copyOfRange(png, png.length - 3, png.length)));
        mvc.perform(get(url).header("X-Test-Caller", "usr_alice:user").header("Range", "bytes=10-"))
                .andExpect(status().isPartialContent())
                .andExpect(content().bytes(java.util.Arrays.copyOfRange(png, 10, png.length)));
        mvc.perform(get(url).header("X-Test-Caller", "usr_alice:user").header("Range", "bytes=" + png.length + "-"))
                .andExpect(status().isRequestedRangeNotSatisfiable())
                .andExpect(header().string("Content-Range", "bytes */" + png.length));
        // Several ranges, a stale If-Range, or nonsense: the whole file, as RFC 9110 allows.
        for (String[] h : List.of(new String[] {"Range", "bytes=0-1,4-5"}, new String[] {"Range", "bytes=x-y"})) {
            mvc.perform(get(url).header("X-Test-Caller", "usr_alice:user").header(h[0], h[1]))
                    .andExpect(status().isOk()).andExpect(content().bytes(png));
        }
        mvc.perform(get(url).header("X-Test-Caller", "usr_alice:user").header("Range", "bytes=0-1").header("If-Range", "\"other\""))
                .andExpect(status().isOk()).andExpect(content().bytes(png));
        mvc.perform(get(url).header("X-Test-Caller", "usr_alice:user").header("Range", "bytes=0-1")
                        .header("If-Range", "\"" + a.sha256() + "\""))
                .andExpect(status().isPartialContent()).andExpect(content().bytes(java.util.Arrays.copyOf(png, 2)));
    }

    @Test
    void aRowWhoseBytesAreGoneIs404NotAnInternalError() throws Exception {
        Asset a = upload("usr_alice", TestImages.png(30, 30));
        java.nio.file.Files.delete(dataDir.resolve("assets").resolve(a.sha256().substring(0, 2)).resolve(a.sha256()));
        mvc.perform(get("/v1/assets/" + a.id()).header("X-Test-Caller", "usr_alice:user"))
                .andExpect(status().isNotFound())
                .andExpect(jsonPath("$.detail").value("the file of asset '" + a.id() + "' is missing from storage"));
    }

    @Test
    void ifNoneMatchParsing() {
        String sha = "ab".repeat(32);
        assertThat(AssetController.matches(null, sha)).isFalse();
        assertThat(AssetController.matches("\"" + sha + "\"", sha)).isTrue();
        assertThat(AssetController.matches(sha, sha)).isTrue();
        assertThat(AssetController.matches("\"" + sha.substring(1) + "\"", sha)).isFalse();
        assertThat(AssetController.matches("\"x\" , W/\"" + sha + "\"", sha)).isTrue();
    }
}

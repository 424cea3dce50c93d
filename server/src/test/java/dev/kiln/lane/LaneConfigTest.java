package dev.kiln.lane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.testing.TestCatalog;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Which lane each model of the shipped catalogue waits in, from configuration bound as Spring binds
 * it at start-up: application.yml's lanes (as properties) and more lanes from environment variables.
 */
class LaneConfigTest {
    static final Catalog CATALOG = TestCatalog.shipped();

    /** The lanes application.yml defines, with its defaults. */
    static Map<String, Object> shipped() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("kiln.lanes.image.kinds", "image");
        p.put("kiln.lanes.image.max-depth", "10000");
        p.put("kiln.lanes.image.max-wait", "0");
        p.put("kiln.lanes.video.kinds", "video");
        p.put("kiln.lanes.video.max-depth", "25");
        p.put("kiln.lanes.video.max-wait", "30s");
        p.put("kiln.lanes.default.max-depth", "10000");
        p.put("kiln.lanes.default.max-wait", "0");
        p.put("kiln.user-max-running", "100");
        p.put("kiln.user-submissions-per-minute", "600");
        return p;
    }

    static LaneProperties bind(Map<String, Object> properties, Map<String, Object> env) {
        MutablePropertySources sources = new MutablePropertySources();
        sources.addLast(new SystemEnvironmentPropertySource(org.springframework.core.env.StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, env));
        sources.addLast(new MapPropertySource("yml", properties));
        return new Binder(ConfigurationPropertySources.from(sources)).bind("kiln", LaneProperties.class).get();
    }

    static Model model(String id) {
        return CATALOG.find(id).orElseThrow();
    }

    @Test
    void theShippedLanesTakeEachModelByKind() {
        Lanes lanes = new Lanes(bind(shipped(), Map.of()), CATALOG, false);
        Lane video = lanes.of(model("sandbox-video"));
        assertThat(video.name()).isEqualTo("video");
        assertThat(video.maxDepth()).isEqualTo(25);
        assertThat(video.maxWait()).isEqualTo(Duration.ofSeconds(30));
        assertThat(lanes.of(model("anisora-v3.2")).name()).isEqualTo("video");
        assertThat(lanes.of(model("sandbox-image")).name()).isEqualTo("image");
        assertThat(lanes.of(model("flux-schnell")).name()).isEqualTo("image");
        assertThat(lanes.of(model("sandbox-image")).limitsWait()).isFalse();
        assertThat(lanes.all()).extracting(Lane::name).containsExactly("default", "image", "video");
        assertThat(lanes.modelsOf(video)).contains("sandbox-video", "anisora-v3.2", "wan-2.2-rapid").doesNotContain("sandbox-image");
        assertThat(lanes.userMaxRunning()).isEqualTo(100);
        assertThat(lanes.userSubmissionsPerMinute()).isEqualTo(600);
    }

    /** Lanes by provider pool and by model from environment variables; a model beats a provider beats a kind. */
    @Test
    void moreLanesFromTheEnvironment() {
        Map<String, Object> env = Map.of(
                "KILN_LANES_COMFY_PROVIDERS", "comfyui, runpod",
                "KILN_LANES_COMFY_MAXDEPTH", "50",
                "KILN_LANES_COMFY_MAXWAIT", "2m",
                "KILN_LANES_VIP_MODELS", "qwen-image",
                "KILN_LANES_VIP_MAXDEPTH", "5",
                "KILN_LANES_VIDEO_MAXDEPTH", "40");
        Lanes lanes = new Lanes(bind(shipped(), env), CATALOG, false);
        Lane comfy = lanes.named("comfy").orElseThrow();
        assertThat(comfy.providers()).containsExactly("comfyui", "runpod");
        assertThat(comfy.maxDepth()).isEqualTo(50);
        assertThat(comfy.maxWait()).isEqualTo(Duration.ofMinutes(2));
        // anisora is a video model whose first binding is ComfyUI: the provider pool takes it.
        assertThat(lanes.of(model("anisora-v3.2")).name()).isEqualTo("comfy");
        assertThat(lanes.of(model("qwen-image")).name()).isEqualTo("vip");
        assertThat(lanes.of(model("sandbox-video")).name()).isEqualTo("video");
        assertThat(lanes.of(model("sandbox-video")).maxDepth()).isEqualTo(40);
        assertThat(lanes.of(model("sandbox-video")).maxWait()).isEqualTo(Duration.ofSeconds(30));
        assertThat(lanes.of(model("seedream-v4.5")).name()).isEqualTo("image");
    }

    @Test
    void aModelNoLaneTakesWaitsInTheDefaultLane() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("kiln.lanes.video.kinds", "video");
        p.put("kiln.lanes.video.max-depth", "25");
        Lanes lanes = new Lanes(bind(p, Map.of()), CATALOG, false);
        Lane lane = lanes.of(model("sandbox-image"));
        assertThat(lane.name()).isEqualTo(Lanes.DEFAULT);
        assertThat(lane.maxDepth()).isEqualTo(Lanes.DEFAULT_DEPTH);
        assertThat(lanes.nameOf("no-such-model")).isEqualTo(Lanes.DEFAULT);
    }

    @Test
    void twoLanesClaimingAModelAlikeStopTheStart() {
        Map<String, Object> env = Map.of("KILN_LANES_CLIPS_KINDS", "video");
        assertThatThrownBy(() -> new Lanes(bind(shipped(), env), CATALOG, false))
                .hasMessageContaining("claimed by lanes [clips, video]").hasMessageContaining("kind 'video'");
    }

    @Test
    void badLaneSettingsStopTheStart() {
        assertThatThrownBy(() -> new Lanes(bind(shipped(), Map.of("KILN_LANES_X_MAXDEPTH", "-1")), CATALOG, false))
                .hasMessageContaining("max-depth must be 0 (no limit) or more");
        Map<String, Object> p = shipped();
        p.put("kiln.lanes.[bad lane].max-depth", "3");
        assertThatThrownBy(() -> new Lanes(bind(p, Map.of()), CATALOG, false)).hasMessageContaining("lane name 'bad lane'");
        Map<String, Object> q = shipped();
        q.put("kiln.user-max-running", "-2");
        assertThatThrownBy(() -> bind(q, Map.of())).hasStackTraceContaining("KILN_USER_MAX_RUNNING must be 0 (no cap) or more");
    }

    /** Local mode has one user: no caps between users. */
    @Test
    void localModeHasNoPerUserCaps() {
        Lanes lanes = new Lanes(bind(shipped(), Map.of()), CATALOG, true);
        assertThat(lanes.userMaxRunning()).isZero();
        assertThat(lanes.userSubmissionsPerMinute()).isZero();
        assertThat(lanes.of(model("sandbox-video")).maxDepth()).isEqualTo(25);
    }

    @Test
    void submissionsPerMinuteGive429WithRetryAfter() {
        Map<String, Object> p = shipped();
        p.put("kiln.user-submissions-per-minute", "2");
        SubmissionLimiter limiter = new SubmissionLimiter(new Lanes(bind(p, Map.of()), CATALOG, false));
        dev.kiln.user.Caller alice = new dev.kiln.user.Caller("usr_alice", "user");
        limiter.take(alice);
        limiter.take(alice);
        assertThatThrownBy(() -> limiter.take(alice)).isInstanceOfSatisfying(dev.kiln.support.KilnException.class, e -> {
            assertThat(e.code()).isEqualTo(dev.kiln.support.ErrorCode.RATE_LIMITED);
            assertThat(e.retryAfter()).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(30));
            assertThat(e.userAction()).contains("Wait");
        });
        limiter.take(new dev.kiln.user.Caller("usr_bob", "user"));
        for (int i = 0; i < 10; i++) limiter.take(dev.kiln.user.Caller.LOCAL_ADMIN);
    }
}

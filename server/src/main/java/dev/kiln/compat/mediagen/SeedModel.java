package dev.kiln.compat.mediagen;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * MediaGen's four models and what each is in Kiln's catalogue ({@code server/src/main/resources/catalog/}).
 *
 * @param id the name MediaGen sends ({@code model})
 * @param catalogId the catalogue model it runs as
 * @param type {@code video} or {@code image}
 * @param modes the modes MediaGen's UI offers for it
 * @param vae the VAE MediaGen names for it ("chosen automatically by model"), or null
 */
record SeedModel(String id, String catalogId, String type, List<String> modes, String vae) {
    static final List<String> VIDEO_MODES = List.of("t2v", "i2v", "first_last_frame", "arbitrary_frame");
    static final List<String> IMAGE_MODES = List.of("txt2img", "img2img");

    static final Map<String, SeedModel> ALL = Map.of(
            "anisora", new SeedModel("anisora", "anisora-v3.2", "video", VIDEO_MODES, null),
            "phr00t", new SeedModel("phr00t", "wan-2.2-rapid", "video", List.of("t2v", "i2v", "first_last_frame"), null),
            "pony", new SeedModel("pony", "pony-v6-xl", "image", IMAGE_MODES, "Pony XL VAE"),
            "flux", new SeedModel("flux", "flux-dev-nf4", "image", IMAGE_MODES, "Flux VAE"));

    static Optional<SeedModel> of(String id) {
        return Optional.ofNullable(id == null ? null : ALL.get(id));
    }

    /** The MediaGen name of a catalogue model, or the catalogue id for one MediaGen does not have. */
    static String seedName(String catalogId) {
        return ALL.values().stream().filter(m -> m.catalogId.equals(catalogId)).map(SeedModel::id).findFirst().orElse(catalogId);
    }

    static String typeOf(String catalogId) {
        return ALL.values().stream().filter(m -> m.catalogId.equals(catalogId)).map(SeedModel::type).findFirst().orElse(null);
    }

    boolean video() {
        return type.equals("video");
    }

    String defaultMode() {
        return video() ? "t2v" : "txt2img";
    }
}

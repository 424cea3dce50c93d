package dev.kiln.testing;

import dev.kiln.catalog.BindingTargets;
import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.CatalogLoader;
import dev.kiln.provider.Providers;
import java.util.HashMap;
import java.util.Map;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/** The shipped catalogue for tests, checked against the providers' own descriptors as at start-up. */
public final class TestCatalog {
    /** The providers Kiln has (found as Spring finds them: one descriptor per provider folder). */
    public static final BindingTargets PROVIDERS = providers();

    private TestCatalog() {}

    public static Catalog shipped() {
        return CatalogLoader.load(null, PROVIDERS);
    }

    private static BindingTargets providers() {
        try (AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext("dev.kiln.provider")) {
            Providers p = ctx.getBean(Providers.class);
            Map<String, Boolean> needsRemote = new HashMap<>();
            for (String id : p.providerIds()) needsRemote.put(id, p.needsRemote(id));
            return BindingTargets.of(needsRemote);
        }
    }
}

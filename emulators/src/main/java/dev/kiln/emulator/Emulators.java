package dev.kiln.emulator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The emulated services, found by looking for a {@code <Service>Launcher} in each folder under
 * {@code dev.kiln.emulator} (in a directory or a jar, also a jar nested in Kiln's own), so there is
 * no list to keep: a service exists when its folder does.
 */
public final class Emulators {
    private static final String ROOT = "dev/kiln/emulator/";
    private static volatile List<Launcher> launchers;

    private Emulators() {}

    /** Every service's launcher, by service name. */
    public static List<Launcher> launchers() {
        List<Launcher> l = launchers;
        if (l == null) launchers = l = discover();
        return l;
    }

    public static Optional<Launcher> launcher(String service) {
        return launchers().stream().filter(l -> l.service().equals(service)).findFirst();
    }

    /** Starts the emulator of one service. */
    public static Emulator start(String service, Launcher.Options options) {
        return launcher(service).orElseThrow(() -> new IllegalArgumentException("no emulator of '" + service + "'; there are "
                + launchers().stream().map(Launcher::service).toList())).start(options);
    }

    private static List<Launcher> discover() {
        TreeSet<String> classes = new TreeSet<>();
        ClassLoader loader = Emulators.class.getClassLoader();
        try {
            Enumeration<URL> roots = loader.getResources(ROOT);
            while (roots.hasMoreElements()) collect(roots.nextElement(), classes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the emulators", e);
        }
        List<Launcher> out = new ArrayList<>();
        for (String name : classes) {
            try {
                Class<?> c = Class.forName(name, true, loader);
                if (Launcher.class.isAssignableFrom(c) && !c.isInterface()) {
                    out.add((Launcher) c.getConstructor().newInstance());
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot create the emulator launcher " + name, e);
            }
        }
        out.sort(java.util.Comparator.comparing(Launcher::service));
        return List.copyOf(out);
    }

    /** Adds the {@code dev.kiln.emulator.<service>.*Launcher} classes under one class path root. */
    private static void collect(URL root, TreeSet<String> classes) throws IOException {
        if (root.getProtocol().equals("file")) {
            Path dir;
            try {
                dir = Path.of(root.toURI());
            } catch (URISyntaxException e) {
                throw new IOException(e);
            }
            try (Stream<Path> files = Files.walk(dir, 2)) {
                files.map(p -> dir.relativize(p).toString().replace('\\', '/'))
                        .forEach(rel -> add(ROOT + rel, classes));
            }
            return;
        }
        URLConnection c = root.openConnection();
        if (c instanceof JarURLConnection jar) {
            jar.setUseCaches(false);
            try (JarFile file = jar.getJarFile()) {
                for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) add(e.nextElement().getName(), classes);
            }
        }
    }

    private static void add(String entry, TreeSet<String> classes) {
        if (!entry.startsWith(ROOT) || !entry.endsWith("Launcher.class")) return;
        String rel = entry.substring(ROOT.length());
        if (rel.indexOf('/') < 0 || rel.indexOf('/') != rel.lastIndexOf('/')) return; // only dev/kiln/emulator/<service>/X.class
        classes.add(entry.substring(0, entry.length() - ".class".length()).replace('/', '.'));
    }
}

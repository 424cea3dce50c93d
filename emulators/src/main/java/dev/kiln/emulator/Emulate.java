package dev.kiln.emulator;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code ./kiln emulate}: every emulator on its own port, alone, as an offline stand-in for the
 * providers that any client can be pointed at. Prints each service's base URL, key and settings,
 * then runs until interrupted.
 */
public final class Emulate {
    static final int DEFAULT_PORT = 9100;
    /** Held so the setting sticks: the ComfyUI emulator's embedded Tomcat logs its start-up at INFO otherwise. */
    private static final java.util.logging.Logger TOMCAT = java.util.logging.Logger.getLogger("org.apache");

    private Emulate() {}

    public static void main(String[] args) throws InterruptedException {
        Launcher.Options options;
        List<String> only = new ArrayList<>();
        try {
            options = parse(args, only);
        } catch (IllegalArgumentException e) {
            System.err.println("kiln emulate: " + e.getMessage());
            usage(System.err);
            System.exit(2);
            return;
        }
        if (options == null) {
            usage(System.out);
            return;
        }
        TOMCAT.setLevel(java.util.logging.Level.WARNING);
        List<Emulator> running = start(options, only);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.forEach(Emulator::close);
            stopped.countDown();
        }));
        System.out.println("Provider emulators (latency " + format(options.latency()) + ", failure rate " + options.failRate()
                + "); Ctrl-C stops them.");
        for (Emulator e : running) System.out.print(describe(e));
        System.out.flush();
        stopped.await();
    }

    /** Starts the chosen services (all when {@code only} is empty) on consecutive ports from the one given (0: any free ports). */
    static List<Emulator> start(Launcher.Options options, List<String> only) {
        List<Launcher> chosen = new ArrayList<>();
        for (Launcher l : Emulators.launchers()) if (only.isEmpty() || only.contains(l.service())) chosen.add(l);
        for (String s : only) {
            if (Emulators.launcher(s).isEmpty()) {
                throw new IllegalArgumentException("no emulator of '" + s + "'; there are "
                        + Emulators.launchers().stream().map(Launcher::service).toList());
            }
        }
        List<Emulator> out = new ArrayList<>();
        try {
            for (int i = 0; i < chosen.size(); i++) {
                out.add(chosen.get(i).start(options.withPort(options.port() == 0 ? 0 : options.port() + i)));
            }
        } catch (RuntimeException e) {
            out.forEach(Emulator::close);
            throw e;
        }
        return out;
    }

    static String describe(Emulator e) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "  %-10s %s%n", e.title(), e.baseUrl()));
        if (e.apiKey() != null) sb.append(String.format(Locale.ROOT, "  %-10s key %s%n", "", e.apiKey()));
        for (Map.Entry<String, String> s : new java.util.TreeMap<>(e.settings()).entrySet()) {
            sb.append(String.format(Locale.ROOT, "  %-10s %s %s%n", "", s.getKey(), s.getValue()));
        }
        return sb.toString();
    }

    /** The options, or null when help was asked for. */
    static Launcher.Options parse(String[] args, List<String> only) {
        int port = DEFAULT_PORT;
        Duration latency = Duration.ofSeconds(2);
        double failRate = 0;
        String key = null;
        Path state = null;
        List<String> comfyModels = new ArrayList<>();
        List<String> comfyNodes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) return null;
            int eq = a.indexOf('=');
            String name = eq > 0 ? a.substring(0, eq) : a;
            if (!name.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + a + "'");
            String value;
            if (eq > 0) {
                value = a.substring(eq + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException(name + " needs a value");
            }
            switch (name) {
                case "--port" -> port = integer(name, value, 0, 65535 - 16);
                case "--latency" -> latency = duration(name, value);
                case "--fail-rate" -> failRate = rate(name, value);
                case "--key" -> key = value;
                case "--state" -> state = Path.of(value);
                case "--only" -> only.addAll(List.of(value.split(",")));
                case "--comfy-models" -> comfyModels.addAll(comfyModels(name, value));
                case "--comfy-nodes" -> comfyNodes.addAll(names(value));
                default -> throw new IllegalArgumentException("unknown option " + name);
            }
        }
        return new Launcher.Options(port, latency, failRate, key, state, comfyModels, comfyNodes);
    }

    private static List<String> names(String v) {
        return java.util.Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** {@code folder/file} entries, checked now so that a typo is a usage error rather than a failed start. */
    private static List<String> comfyModels(String name, String v) {
        List<String> out = names(v);
        try {
            dev.kiln.emulator.comfy.ComfyInventory.empty().withEntries(out);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage());
        }
        return out;
    }

    static void usage(PrintStream out) {
        out.println("""
                usage: ./kiln emulate [--port N] [--latency D] [--fail-rate R] [--key K] [--state DIR] [--only a,b]
                                      [--comfy-models folder/file,...] [--comfy-nodes Class,...]
                  --port N       first port; the services take consecutive ones in name order (default %d; 0: any free ports)
                  --latency D    how long a job takes, e.g. 500ms, 2s, 1m (default 2s)
                  --fail-rate R  share of jobs that fail, 0..1 (default 0)
                  --key K        the key every service requires (default: a random one per service, printed)
                  --state DIR    keep what survives a restart (WaveSpeed's tasks) in DIR (default: in memory)
                  --only a,b     start only these services (default: all)
                  --comfy-models ComfyUI and RunPod model files besides the defaults, e.g. checkpoints/sdxl.safetensors,loras/x.safetensors
                  --comfy-nodes  ComfyUI and RunPod custom node classes besides the defaults, e.g. IPAdapterAdvanced""".formatted(DEFAULT_PORT));
    }

    private static int integer(String name, String v, int min, int max) {
        try {
            int i = Integer.parseInt(v.trim());
            if (i >= min && i <= max) return i;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be an integer " + min + ".." + max + ", got '" + v + "'");
    }

    private static double rate(String name, String v) {
        try {
            double d = Double.parseDouble(v.trim());
            if (d >= 0 && d <= 1) return d;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a number 0..1, got '" + v + "'");
    }

    /** {@code 250ms}, {@code 2s}, {@code 1m}, or an ISO-8601 duration. */
    static Duration duration(String name, String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        try {
            if (s.endsWith("ms")) return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            if (s.endsWith("s")) return Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
            if (s.endsWith("m")) return Duration.ofSeconds(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 60));
            return Duration.parse(v.trim());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(name + " must be a duration such as 500ms, 2s or 1m, got '" + v + "'");
        }
    }

    private static String format(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}

package dev.kiln.emulator;

import dev.kiln.emulator.support.Tokens;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Starts the emulator of one service. Each service's folder ({@code dev.kiln.emulator.<service>})
 * has exactly one public implementation named {@code <Service>Launcher}, with a public no-argument
 * constructor; {@link Emulators} finds it there, so adding a service touches only its folder.
 */
public interface Launcher {

    /** The service's name, which is also its folder: {@code wavespeed}, {@code replicate}, … */
    String service();

    /** The service as people write it: {@code WaveSpeed}, {@code Replicate}, … */
    String title();

    /** Starts the emulator; the caller closes the answer. */
    Emulator start(Options options);

    /**
     * How to start an emulator.
     *
     * @param port TCP port on 127.0.0.1, 0 for any free one
     * @param latency how long a job takes from submission to its result
     * @param failRate share of jobs that fail, 0..1
     * @param apiKey the key clients must present, or null for a fresh random one
     * @param stateDir where an emulator that keeps state across restarts writes it, or null to keep it in memory
     * @param comfyModels model files the ComfyUI-based emulators (ComfyUI, RunPod worker-comfyui) have
     *     besides their defaults, each {@code folder/file} (e.g. {@code checkpoints/sdxl.safetensors})
     * @param comfyNodes custom node classes those emulators have installed besides their defaults
     */
    record Options(int port, Duration latency, double failRate, String apiKey, Path stateDir, List<String> comfyModels,
                   List<String> comfyNodes) {
        public Options {
            comfyModels = comfyModels == null ? List.of() : List.copyOf(comfyModels);
            comfyNodes = comfyNodes == null ? List.of() : List.copyOf(comfyNodes);
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535: " + port);
            if (latency == null || latency.isNegative()) throw new IllegalArgumentException("latency must not be negative: " + latency);
            if (!(failRate >= 0 && failRate <= 1)) throw new IllegalArgumentException("failRate must be 0..1: " + failRate);
        }

        public Options(int port, Duration latency, double failRate, String apiKey, Path stateDir) {
            this(port, latency, failRate, apiKey, stateDir, List.of(), List.of());
        }

        /** Any free port, 2 s per job, no failures, random keys, state in memory, the default ComfyUI models and nodes. */
        public static Options defaults() {
            return new Options(0, Duration.ofSeconds(2), 0, null, null);
        }

        public Options withPort(int p) {
            return new Options(p, latency, failRate, apiKey, stateDir, comfyModels, comfyNodes);
        }

        public Options withComfy(List<String> models, List<String> nodes) {
            return new Options(port, latency, failRate, apiKey, stateDir, models, nodes);
        }

        /** The key to require: the one given, or a fresh one. */
        public String keyOrNew() {
            return apiKey != null ? apiKey : "sandbox-" + Tokens.secret();
        }
    }
}

package dev.kiln.provider.comfyui;

import dev.kiln.provider.PollPolicy;
import java.time.Duration;

/**
 * Settings of a {@link ComfyUiProvider}.
 *
 * @param submitTimeout how long {@code POST /prompt} may take before it counts as ambiguous
 * @param callTimeout timeout of history, queue, interrupt and health calls
 * @param objectInfoTimeout timeout of {@code GET /object_info} (megabytes on a server with many node packs)
 * @param uploadTimeout timeout of one input image upload
 * @param downloadTimeout timeout until an output download starts answering
 * @param websocketConnectTimeout how long to wait for the {@code /ws} connection before relying on polling
 * @param historyRecheck while the websocket reports a prompt running, {@code /history} is still read this often
 * @param polls poll pacing for real servers (a LAN ComfyUI is cheap to ask)
 * @param sandboxPolls poll pacing for sandbox accounts
 */
public record ComfyUiConfig(Duration submitTimeout, Duration callTimeout, Duration objectInfoTimeout, Duration uploadTimeout, Duration downloadTimeout,
                            Duration websocketConnectTimeout, Duration historyRecheck, PollPolicy polls, PollPolicy sandboxPolls) {

    public static ComfyUiConfig defaults() {
        return new ComfyUiConfig(Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(120),
                Duration.ofSeconds(3), Duration.ofSeconds(10),
                new PollPolicy(Duration.ofMillis(500), Duration.ofSeconds(5), 1.5),
                new PollPolicy(Duration.ofMillis(50), Duration.ofSeconds(1), 1.5));
    }
}

package dev.kiln.asset;

import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process {@link VideoProbes} starts to read untrusted videos: jcodec's demuxers and decoders
 * can loop forever or allocate without bound on a malformed file, and a thread cannot be stopped
 * nor its memory capped inside Kiln's own JVM. Here a runaway probe is killed with its process,
 * and an allocation past the heap limit ends only this process ({@code -XX:+ExitOnOutOfMemoryError}).
 *
 * <p>Protocol, one line each way per video: {@code mime TAB maxPixels TAB path} in;
 * {@code width TAB height TAB frames TAB fps TAB durationMs TAB thumbMime TAB thumbBase64} out,
 * {@code -} for what is unknown. The process exits when its input closes or after a minute idle.
 */
public final class VideoProbeWorker {
    static final long IDLE_EXIT_MS = 60_000;

    private VideoProbeWorker() {}

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
        // Nothing but answers on stdout: libraries that print go to stderr.
        System.setOut(System.err);
        AtomicLong lastRequest = new AtomicLong(System.currentTimeMillis());
        Thread idle = Thread.ofPlatform().daemon().start(() -> {
            while (true) {
                try {
                    Thread.sleep(5_000);
                } catch (InterruptedException e) {
                    return;
                }
                if (lastRequest.get() > 0 && System.currentTimeMillis() - lastRequest.get() > IDLE_EXIT_MS) System.exit(0);
            }
        });
        idle.setName("idle-exit");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            lastRequest.set(0); // busy: never idle while probing, however long it takes
            out.println(answer(line));
            out.flush();
            lastRequest.set(System.currentTimeMillis());
        }
    }

    static String answer(String request) {
        String[] f = request.split("\t", 3);
        String mime = f[0];
        long maxPixels = Long.parseLong(f[1]);
        Path file = Path.of(f[2]);
        VideoProbe.Facts v = VideoProbe.facts(file, mime);
        String thumbMime = null, thumb = null;
        if (v.width() != null && v.height() != null && (long) v.width() * v.height() <= maxPixels) {
            BufferedImage first = VideoProbe.poster(file, mime);
            if (first != null) {
                Thumbnails.Thumbnail t = Thumbnails.render(first, first.getWidth(), first.getHeight());
                thumbMime = t.mime();
                thumb = Base64.getEncoder().encodeToString(t.bytes());
            }
        }
        return String.join("\t", str(v.width()), str(v.height()), str(v.frames()), str(v.fps()), str(v.durationMs()),
                str(thumbMime), str(thumb));
    }

    private static String str(Object o) {
        return o == null ? "-" : o.toString();
    }
}

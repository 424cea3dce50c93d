package dev.kiln.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import tools.jackson.core.JacksonException;

/**
 * Follows one run's job events ({@code GET /v1/events?run=}), or all of the caller's when the run
 * is null, on a virtual thread, reconnecting
 * with backoff when the stream ends or breaks. Kiln does not replay missed events, so every
 * (re)connection is reported to the listener, which then reads the run's current state; a stream
 * that has been silent for longer than three of Kiln's 15-second keep-alives is taken for dead.
 * A server that answers the stream with an error or with something that is not an event stream
 * makes it give up; the listener then polls.
 */
final class EventStream {
    static final Duration SILENCE = Duration.ofSeconds(45);

    interface Listener {
        void connected(String runId);

        void job(Wire.Job job);

        void lost(String runId, String why);

        void unsupported(String runId, String why);
    }

    private final Api api;
    private final String runId;
    private final Listener listener;
    private volatile boolean closed;
    private volatile boolean connected;
    private volatile long lastDataNanos = System.nanoTime();
    private volatile InputStream body;
    private Thread thread;

    EventStream(Api api, String runId, Listener listener) {
        this.api = api;
        this.runId = runId;
        this.listener = listener;
    }

    void start() {
        thread = Thread.ofVirtual().name("kiln-events-" + (runId == null ? "all" : runId)).start(this::loop);
    }

    boolean connected() {
        return connected;
    }

    /** Breaks a connection that has gone silent, so that the loop reconnects. */
    void checkSilence() {
        InputStream b = body;
        if (connected && b != null && System.nanoTime() - lastDataNanos > SILENCE.toNanos()) closeQuietly(b);
    }

    void close() {
        closed = true;
        InputStream b = body;
        if (b != null) closeQuietly(b);
        if (thread != null) thread.interrupt();
    }

    private void loop() {
        long backoffMs = 500;
        while (!closed) {
            try {
                HttpResponse<InputStream> res = api.open(runId == null ? "/v1/events" : "/v1/events?run=" + Api.query(runId),
                        "text/event-stream", Duration.ofSeconds(15));
                String type = Api.contentType(res).orElse("");
                if (!type.startsWith("text/event-stream")) {
                    closeQuietly(res.body());
                    listener.unsupported(runId, "the server answered the event stream with " + (type.isEmpty() ? "no content type" : type));
                    return;
                }
                body = res.body();
                lastDataNanos = System.nanoTime();
                connected = true;
                backoffMs = 500;
                listener.connected(runId);
                read(res.body());
                if (!closed) listener.lost(runId, "the event stream ended");
            } catch (CliException.Refused e) {
                listener.unsupported(runId, e.problem().describe());
                return;
            } catch (CliException | IOException e) {
                if (!closed) listener.lost(runId, e.getMessage());
            } finally {
                connected = false;
                body = null;
            }
            if (closed) return;
            try {
                Thread.sleep(backoffMs);
            } catch (InterruptedException e) {
                return;
            }
            backoffMs = Math.min(5_000, backoffMs * 2);
        }
    }

    private void read(InputStream in) throws IOException {
        SseParser parser = new SseParser();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while (!closed && (line = r.readLine()) != null) {
                lastDataNanos = System.nanoTime();
                SseParser.Event e = parser.line(line);
                if (e == null || !e.name().equals("job")) continue;
                try {
                    listener.job(Wire.JSON.readValue(e.data(), Wire.Job.class));
                } catch (JacksonException bad) {
                    // An event this client cannot read: the next resync brings the job's state anyway.
                }
            }
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // closing a broken connection
        }
    }
}

package dev.kiln.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps the {@link Tracker} current while a batch runs. Events come first: one stream per run, or,
 * past a few runs (a CSV whose rows each carry their own parameters becomes many runs), one stream
 * of all the caller's events, filtered here. Reads fill the gaps: a run whose stream is down is
 * polled, every (re)connection is followed by a read (Kiln does not replay missed events), and
 * every unfinished run is re-read now and then. Finished runs are left alone. When Kiln stops
 * answering (a restart), reads keep being tried for {@link #GIVE_UP}.
 */
final class Follower {
    static final int MAX_RUN_STREAMS = 4;
    static final Duration POLL = Duration.ofSeconds(2);
    static final Duration RESYNC = Duration.ofSeconds(30);
    static final Duration GIVE_UP = Duration.ofMinutes(10);
    /** Reads are spread so that many runs do not mean many reads a second. */
    private static final Duration PER_RUN = Duration.ofMillis(200);

    private final Api api;
    private final Tracker tracker;
    private final Map<String, EventStream> perRun = new ConcurrentHashMap<>();
    private volatile EventStream shared;
    private final Set<String> readNow = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> lastRead = new HashMap<>();
    private long lastFull = System.nanoTime();
    private Instant unreachableSince;

    Follower(Api api, Tracker tracker) {
        this.api = api;
        this.tracker = tracker;
    }

    /** Follows a run from now on: its jobs as given, then its events. */
    synchronized void add(Wire.Run run) {
        tracker.run(run);
        if (shared != null) return;
        if (perRun.size() < MAX_RUN_STREAMS) {
            EventStream s = new EventStream(api, run.id(), listener());
            perRun.put(run.id(), s);
            s.start();
            return;
        }
        perRun.values().forEach(EventStream::close);
        perRun.clear();
        shared = new EventStream(api, null, listener());
        shared.start();
    }

    /**
     * One round of reads, for the runs that need one.
     *
     * @return a note for the progress bar (the server is unreachable), or null
     * @throws CliException.Unreachable when the server has not answered for {@link #GIVE_UP}
     */
    synchronized String refresh() {
        long now = System.nanoTime();
        long unfinished = tracker.runs().stream().filter(id -> !tracker.runFinished(id)).count();
        long spread = PER_RUN.toNanos() * unfinished;
        boolean full = now - lastFull > Math.max(RESYNC.toNanos(), spread);
        if (full) lastFull = now;
        String note = null;
        for (String id : tracker.runs()) {
            if (tracker.runFinished(id)) {
                EventStream s = perRun.remove(id);
                if (s != null) s.close();
                continue;
            }
            EventStream s = shared != null ? shared : perRun.get(id);
            boolean live = s != null && s.connected();
            boolean due = readNow.remove(id) || full || (!live && now - lastRead.getOrDefault(id, 0L) > Math.max(POLL.toNanos(), spread));
            if (!due) continue;
            lastRead.put(id, now);
            try {
                tracker.run(api.get("/v1/runs/" + Api.query(id), Wire.Run.class));
                unreachableSince = null;
            } catch (CliException.Unreachable e) {
                if (unreachableSince == null) unreachableSince = Instant.now();
                if (Duration.between(unreachableSince, Instant.now()).compareTo(GIVE_UP) > 0) throw e;
                note = "server unreachable since " + unreachableSince.toString().substring(11, 19) + "Z, retrying";
                break;
            }
        }
        perRun.values().forEach(EventStream::checkSilence);
        if (shared != null) shared.checkSilence();
        return note;
    }

    void close() {
        perRun.values().forEach(EventStream::close);
        if (shared != null) shared.close();
    }

    private EventStream.Listener listener() {
        return new EventStream.Listener() {
            @Override
            public void connected(String runId) {
                if (runId != null) readNow.add(runId);
                else readNow.addAll(tracker.runs());
                tracker.poke();
            }

            @Override
            public void job(Wire.Job job) {
                tracker.apply(job);
            }

            @Override
            public void lost(String runId, String why) {
                tracker.poke();
            }

            @Override
            public void unsupported(String runId, String why) {
                tracker.poke();
            }
        };
    }
}

package dev.kiln.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the CLI knows about the jobs it follows: the latest state of each, from events and from
 * reading the runs. A job that reached a terminal state stays there (a late event or an older read
 * cannot move it back); a job that newly succeeded is handed to the listener once, for download.
 */
final class Tracker {
    interface Listener {
        /** Any change of a job's state (called with the tracker's lock held: keep it short). */
        void changed(Wire.Job job, int position);

        /** The job newly succeeded: its outputs can be saved. */
        void succeeded(Wire.Job job, int position);
    }

    /** Counts for the progress bar and the exit code. */
    record Counts(int total, int queued, int running, int succeeded, int failed, int canceled, int timedOut) {
        int finished() {
            return succeeded + failed + canceled + timedOut;
        }

        int unsuccessful() {
            return failed + canceled + timedOut;
        }
    }

    private final Listener listener;
    private final List<String> runs = new ArrayList<>();
    private final Map<String, Integer> positions = new HashMap<>();
    private final Map<String, List<String>> jobsOfRun = new HashMap<>();
    private final Map<String, Wire.Job> jobs = new LinkedHashMap<>();
    private int total;
    private long version;

    Tracker(Listener listener) {
        this.listener = listener;
    }

    /** Adds a run the first time it is seen (its jobs numbered after those already known), then applies its jobs. */
    synchronized void run(Wire.Run run) {
        if (!runs.contains(run.id())) {
            runs.add(run.id());
            for (Wire.Job j : run.jobs()) positions.put(j.id(), ++total);
            jobsOfRun.put(run.id(), run.jobs().stream().map(Wire.Job::id).toList());
        }
        for (Wire.Job j : run.jobs()) apply(j);
    }

    synchronized List<String> runs() {
        return List.copyOf(runs);
    }

    synchronized int total() {
        return total;
    }

    synchronized Integer position(String jobId) {
        return positions.get(jobId);
    }

    /** Applies a job's state; returns whether anything changed. Jobs of runs not followed are ignored. */
    synchronized boolean apply(Wire.Job j) {
        Integer position = positions.get(j.id());
        if (position == null) return false;
        Wire.Job old = jobs.get(j.id());
        if (old != null && old.terminal()) return false;
        if (old != null && old.equals(j)) return false;
        jobs.put(j.id(), j);
        version++;
        notifyAll();
        listener.changed(j, position);
        if (j.status().equals("succeeded")) listener.succeeded(j, position);
        return true;
    }

    synchronized Counts counts() {
        int q = 0, r = 0, s = 0, f = 0, c = 0, t = 0;
        for (Wire.Job j : jobs.values()) {
            switch (j.status()) {
                case "queued" -> q++;
                case "running" -> r++;
                case "succeeded" -> s++;
                case "failed" -> f++;
                case "canceled" -> c++;
                case "timed_out" -> t++;
                default -> q++;
            }
        }
        return new Counts(total, q + (total - jobs.size()), r, s, f, c, t);
    }

    /** Whether every job of the run is in a terminal state (nothing more will change). */
    synchronized boolean runFinished(String runId) {
        List<String> ids = jobsOfRun.get(runId);
        if (ids == null) return false;
        for (String id : ids) {
            Wire.Job j = jobs.get(id);
            if (j == null || !j.terminal()) return false;
        }
        return true;
    }

    synchronized boolean allFinished() {
        return jobs.size() == total && jobs.values().stream().allMatch(Wire.Job::terminal);
    }

    synchronized List<Wire.Job> jobs() {
        return List.copyOf(jobs.values());
    }

    /** Waits until something changes or the time passes. */
    synchronized void awaitChange(long sinceVersion, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (version == sinceVersion) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return;
            wait(Math.max(1, left / 1_000_000));
        }
    }

    synchronized long version() {
        return version;
    }

    /** Wakes a waiter (a download finished, an interrupt came). */
    synchronized void poke() {
        version++;
        notifyAll();
    }

    /**
     * Before anything has finished, the jobs' own estimates (the model's ETA rule, from when each
     * was created) say how long is left; once jobs finish, the progress bar's rate takes over.
     */
    synchronized Optional<Duration> estimateBeforeFirstFinish(Instant now) {
        Instant latest = null;
        for (Wire.Job j : jobs.values()) {
            if (j.terminal() || j.etaSeconds() == null || j.createdAt() == null) continue;
            Instant due = j.createdAt().plusSeconds(j.etaSeconds());
            if (latest == null || due.isAfter(latest)) latest = due;
        }
        if (latest == null) return Optional.empty();
        Duration left = Duration.between(now, latest);
        return Optional.of(left.isNegative() ? Duration.ZERO : left);
    }
}

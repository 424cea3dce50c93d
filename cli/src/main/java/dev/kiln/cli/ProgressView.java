package dev.kiln.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import me.tongfei.progressbar.ProgressState;

/**
 * The live progress bar of a batch (me.tongfei:progressbar, drawn on standard error): finished
 * jobs of all, ETA, and the counts by state plus the files saved. On a terminal it redraws in
 * place; when standard error is a file or a pipe (CI logs) it prints a plain line whenever the
 * counts change, at most every few seconds, instead of a stream of carriage returns.
 */
final class ProgressView implements AutoCloseable {
    private static final Duration LOG_EVERY = Duration.ofSeconds(5);

    private final ProgressBar bar;
    private final PrintStream err;
    private volatile String message = "";
    private String lastLogged;
    private long lastLoggedNanos;
    private String pending;

    ProgressView(int total, boolean interactive, PrintStream err, Supplier<Optional<Duration>> earlyEta) {
        this.err = interactive ? null : err;
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName("jobs").setInitialMax(total)
                .setStyle(unicode() ? ProgressBarStyle.UNICODE_BLOCK : ProgressBarStyle.ASCII)
                .setEtaFunction(state -> eta(state, earlyEta));
        if (interactive) {
            b.setUpdateIntervalMillis(200).continuousUpdate();
        } else {
            b.setUpdateIntervalMillis(1000).setConsumer(new DelegatingProgressBarConsumer(line -> log(err, line), 110));
        }
        this.bar = b.build();
    }

    /** Whether the terminal takes UTF-8 (the block characters); otherwise the bar is ASCII. */
    static boolean unicode() {
        for (String v : new String[] {"LC_ALL", "LC_CTYPE", "LANG"}) {
            String s = System.getenv(v);
            if (s != null && !s.isEmpty()) return s.toLowerCase(Locale.ROOT).replace("-", "").contains("utf8");
        }
        return false;
    }

    /** Whether standard error is an interactive terminal (JDK 22+: {@code Console.isTerminal}). */
    static boolean interactive() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    void update(Tracker.Counts c, Downloader.Stats d, String note) {
        if (bar.getMax() != c.total()) bar.maxHint(c.total());
        bar.stepTo(c.finished());
        message = message(c, d) + (note == null ? "" : " · " + note);
        bar.setExtraMessage(message);
    }

    static String message(Tracker.Counts c, Downloader.Stats d) {
        StringBuilder b = new StringBuilder();
        b.append(c.succeeded()).append(" done, ").append(c.unsuccessful()).append(" failed, ")
                .append(c.running()).append(" running, ").append(c.queued()).append(" queued");
        b.append(" · ").append(d.saved() + d.kept()).append(" saved");
        if (d.failed() > 0) b.append(", ").append(d.failed()).append(" not saved");
        return b.toString();
    }

    private static Optional<Duration> eta(ProgressState s, Supplier<Optional<Duration>> early) {
        if (s.getMax() <= 0) return Optional.empty();
        long done = s.getCurrent() - s.getStart();
        if (done <= 0) return early.get();
        return Optional.of(s.getElapsedAfterStart().dividedBy(done).multipliedBy(s.getMax() - s.getCurrent()));
    }

    private synchronized void log(PrintStream err, String line) {
        String counts = message;
        if (counts.isEmpty()) return;
        long now = System.nanoTime();
        boolean changed = !counts.equals(lastLogged);
        long since = now - lastLoggedNanos;
        if ((changed && since >= LOG_EVERY.toNanos()) || since >= LOG_EVERY.toNanos() * 6 || lastLogged == null) {
            err.println(line.strip());
            lastLogged = counts;
            lastLoggedNanos = now;
            pending = null;
        } else if (changed) {
            pending = line.strip();
        }
    }

    @Override
    public void close() {
        bar.close();
        synchronized (this) {
            if (pending != null && err != null) err.println(pending);
            pending = null;
        }
    }
}

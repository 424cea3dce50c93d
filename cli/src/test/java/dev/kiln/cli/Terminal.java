package dev.kiln.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real terminal for end-to-end tests: a bash shell in a detached tmux session on its own
 * server socket (so a developer's tmux is never touched). Commands are typed with
 * {@code send-keys}, the screen is read with {@code capture-pane}, and Ctrl-C is a key press, so
 * the program under test sees a TTY, a terminal width and a real SIGINT from the terminal driver.
 */
final class Terminal implements AutoCloseable {

    /** What a command left on the screen, every distinct screen seen while it ran, and its exit code. */
    record Result(int exit, String screen, List<String> screens) {}

    private final String socket;
    private final String session = "cli";
    private int commands;
    /** Matches the exit line of the command typed last (numbered, so an earlier one never matches). */
    private Pattern exit = Pattern.compile("^$");

    private Terminal(String socket) {
        this.socket = socket;
    }

    static boolean available() {
        try {
            Process p = new ProcessBuilder("tmux", "-V").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Starts a 160×50 terminal running bash in {@code dir}, with exactly this extra environment. */
    static Terminal start(Path dir, Map<String, String> env) {
        Terminal t = new Terminal("kiln-cli-it-" + ProcessHandle.current().pid());
        t.tmux(env, "-u", "new-session", "-d", "-s", t.session, "-x", "160", "-y", "50", "-c", dir.toString(),
                "env", "PS1=$ ", "bash", "--noprofile", "--norc");
        return t;
    }

    /** Types a command, then waits until it ends; its exit code is echoed after it. */
    Result run(String command, Duration max) {
        start(command);
        return await(max);
    }

    /** Types a command without waiting for it. */
    void start(String command) {
        // First a clean screen, so that nothing of the previous command is read as this one's.
        tmux(Map.of(), "send-keys", "-t", session, "clear; tmux clear-history", "Enter");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!capture().strip().equals("$")) {
            if (System.nanoTime() > deadline) throw new AssertionError("the terminal did not clear:\n" + capture());
            sleep(50);
        }
        commands++;
        exit = Pattern.compile("\\[exit#" + commands + " (\\d+)]");
        tmux(Map.of(), "send-keys", "-t", session, command + "; echo \"[exit#" + commands + " $?]\"", "Enter");
    }

    /** Waits for the command typed last to end, keeping every distinct screen seen on the way. */
    Result await(Duration max) {
        return awaitScreen(s -> false, max);
    }

    /** Waits until the screen satisfies the condition (or the command ends); returns what was seen. */
    Result awaitScreen(java.util.function.Predicate<String> done, Duration max) {
        Set<String> seen = new LinkedHashSet<>();
        long deadline = System.nanoTime() + max.toNanos();
        String screen = "";
        while (System.nanoTime() < deadline) {
            screen = capture();
            seen.add(screen);
            Matcher m = exit.matcher(screen);
            boolean ended = m.find();
            if (ended || done.test(screen)) {
                // Kept in the test report (target/failsafe-reports/*-output.txt) for whoever reads a failure.
                System.out.println("---- screen after command " + commands + (ended ? "" : " (still running)") + " ----\n" + screen);
                return new Result(ended ? Integer.parseInt(m.group(1)) : -1, screen, new ArrayList<>(seen));
            }
            sleep(100);
        }
        throw new AssertionError("timed out after " + max + "; the screen shows:\n" + screen);
    }

    void press(String key) {
        tmux(Map.of(), "send-keys", "-t", session, key);
    }

    /** The whole pane, history included, wrapped lines joined. */
    String capture() {
        return tmux(Map.of(), "capture-pane", "-p", "-J", "-t", session, "-S", "-");
    }

    @Override
    public void close() {
        try {
            tmux(Map.of(), "kill-server");
        } catch (AssertionError alreadyGone) {
            // the server ended with its last session
        }
    }

    private String tmux(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) throw new AssertionError("tmux " + String.join(" ", args) + " failed: " + out);
            return out;
        } catch (IOException e) {
            throw new AssertionError("cannot run tmux", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}

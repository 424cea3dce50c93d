package dev.kiln.cli;

/**
 * The CLI's exit codes: a script can tell "all done" from "some failed" from "never started".
 * Listed in the README and in {@code kiln --help}.
 */
final class Exit {
    /** Every job succeeded and every output was downloaded (or, for {@code models}, the listing worked). */
    static final int OK = 0;
    /** Some jobs failed, were canceled or timed out, or an output could not be downloaded. */
    static final int PARTIAL = 1;
    /** Bad command line or input file; nothing was submitted. */
    static final int USAGE = 2;
    /** No job succeeded. */
    static final int FAILED = 3;
    /** The server could not be reached (or stopped answering for longer than the CLI waits). */
    static final int UNREACHABLE = 4;
    /** The server refused the request (its problem+json answer is printed). */
    static final int REFUSED = 5;
    /** {@code status}: the run has not finished yet. */
    static final int RUNNING = 6;
    /** A bug in the CLI (its stack trace is printed); sysexits' EX_SOFTWARE. */
    static final int INTERNAL = 70;
    /** Interrupted with Ctrl-C (128 + SIGINT); the runs go on on the server. */
    static final int INTERRUPTED = 130;

    static final String HELP = """
            Exit codes:
              0    everything succeeded (every job, every download)
              1    partial: some jobs failed, were canceled or timed out,
                   or an output could not be downloaded
              2    usage error (bad option or input file); nothing submitted
              3    every job failed
              4    the server could not be reached
              5    the server refused the request (its error is printed,
                   with the fields at fault)
              6    status: the run is still going
              70   a bug in the CLI (the stack trace is printed)
              130  interrupted (Ctrl-C): the runs go on; re-attach with
                   batch --resume""";

    private Exit() {}

    /** The code for a finished set of jobs. */
    static int of(int succeeded, int total, boolean downloadsComplete) {
        if (total > 0 && succeeded == 0) return FAILED;
        return succeeded == total && downloadsComplete ? OK : PARTIAL;
    }
}

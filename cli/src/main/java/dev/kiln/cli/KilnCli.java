package dev.kiln.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code kiln batch | status | models}: a client of a running Kiln's HTTP API. Plain Java (no
 * Spring) so it starts in a fraction of a second; the {@code ./kiln} launcher runs it from
 * {@code cli/target/kiln-cli.jar} and builds that jar alone when it is missing or stale.
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class,
        description = "Submit batches to a Kiln server, follow them live and download their outputs.",
        subcommands = {BatchCommand.class, StatusCommand.class, ModelsCommand.class, CommandLine.HelpCommand.class},
        footer = {"", Exit.HELP})
final class KilnCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** The name the user typed to run us (the launcher passes {@code ./kiln}), for hints such as "resume with ...". */
    static String self() {
        return System.getProperty("kiln.command", "kiln");
    }

    static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new KilnCli());
        cl.setCommandName(self());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof CliException c) {
                cmd.getErr().println("kiln: " + c.getMessage());
                cmd.getErr().flush();
                return c.exitCode();
            }
            cmd.getErr().println("kiln: internal error; please report it with this trace:");
            ex.printStackTrace(cmd.getErr());
            cmd.getErr().flush();
            return Exit.INTERNAL;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = KilnCli.class.getPackage().getImplementationVersion();
            return new String[] {"kiln-cli " + (v == null ? "(development build)" : v)};
        }
    }
}

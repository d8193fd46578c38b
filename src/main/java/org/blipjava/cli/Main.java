package org.blipjava.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the {@code blip} command.
 *
 * <p>Errors a user can fix (a missing file, a bad flag, an unreachable Hub) end with one line on
 * stderr and a non-zero exit; {@code --verbose} adds the stack trace.
 */
@Command(name = "blip",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "BLIP in Java: caption images, answer questions about them, match, embed and classify images and texts (BLIP, CLIP, FLAVA), compare models, fine-tune captioners.",
        subcommands = {
            CaptionCommand.class,
            VqaCommand.class,
            MatchCommand.class,
            EmbedCommand.class,
            ClassifyCommand.class,
            CompareCommand.class,
            IndexCommand.class,
            SearchCommand.class,
            EvalCommand.class,
            ScoreCommand.class,
            ExplainCommand.class,
            BenchCommand.class,
            TrainCommand.class,
            InitCommand.class,
            CapfiltCommand.class,
            ServeCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main {
    /** Exit code for bad input (files, flags, models); 1 is used when some images failed. */
    public static final int EXIT_USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit code (used by tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            boolean verbose = parseResult.expandedArgs().contains("--verbose")
                    || parseResult.expandedArgs().contains("-v");
            commandLine.getErr().println("blip: " + Errors.describe(ex));
            if (verbose) {
                ex.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return EXIT_USAGE;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("blip: " + ex.getMessage());
            c.getErr().println("(see '" + c.getCommandSpec().qualifiedName() + " --help')");
            c.getErr().flush();
            return EXIT_USAGE;
        });
        return cl.execute(args);
    }

    /** Prints the project version and the Java runtime. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"blip " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}

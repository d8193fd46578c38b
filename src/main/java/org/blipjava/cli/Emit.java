package org.blipjava.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.blipjava.report.ReportFiles;
import picocli.CommandLine.Model.CommandSpec;

/** Where a command's result goes: stdout, or an --output file written atomically. */
final class Emit {
    private Emit() {}

    /**
     * Prints {@code text} to the command's stdout when {@code output} is null; otherwise replaces
     * {@code output} atomically (a temporary file and a rename), so a reader never sees half a result.
     *
     * @throws java.io.UncheckedIOException naming {@code output} when it cannot be written
     */
    static void text(CommandSpec spec, Path output, String text) {
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(text);
            out.flush();
            return;
        }
        ReportFiles.writeString(output, text);
    }
}

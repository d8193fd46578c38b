package org.blipjava.cli;

import picocli.CommandLine.Option;

/** Options every model command takes. */
final class CommonOptions {
    @Option(names = "--revision", paramLabel = "REV",
            description = "Hub revision (branch, tag or commit) when --model is a Hub id (default: main).")
    String revision;

    @Option(names = "--threads", paramLabel = "N",
            description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "8",
            description = "Images per batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--json", description = "Print one JSON document instead of text.")
    boolean json;

    @Option(names = "--no-progress", description = "Never show a progress bar.")
    boolean noProgress;

    @Option(names = {"-v", "--verbose"}, description = "Show stack traces of errors.")
    boolean verbose;

    void validate(picocli.CommandLine.Model.CommandSpec spec) {
        if (batchSize < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--batch-size must be at least 1, got " + batchSize);
        }
        if (threads != null && threads < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--threads must be at least 1, got " + threads);
        }
    }
}

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

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32",
            description = "Weight storage: f32 (exact), bf16 or int8 (less memory, faster decoding, "
                    + "small accuracy cost; products still accumulate in float32). Default: ${DEFAULT-VALUE}.")
    String dtype;

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
        try {
            org.blipjava.tensor.WeightPrecision.parse(dtype);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--dtype: " + e.getMessage());
        }
        if (threads != null && threads < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--threads must be at least 1, got " + threads);
        }
    }

    /**
     * How models are loaded with these options: revision, threads, weight precision, and download
     * bars on a terminal unless --no-progress. Call after {@link #validate}.
     */
    org.blipjava.tasks.LoadOptions loadOptions() {
        boolean bars = !noProgress && org.blipjava.hub.ConsoleProgressListener.stderrIsTerminal();
        return org.blipjava.tasks.LoadOptions.defaults().withRevision(revision)
                .withThreads(threads == null ? 0 : threads)
                .withPrecision(org.blipjava.tensor.WeightPrecision.parse(dtype))
                .withListener(bars ? org.blipjava.hub.ConsoleProgressListener.forStderr(true)
                        : org.blipjava.hub.DownloadListener.NONE);
    }
}

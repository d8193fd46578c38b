package org.blipjava.cli;

import picocli.CommandLine.Command;

/** {@code blip eval}: evaluates a model on a dataset; the tasks are its subcommands. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluates a model on a dataset (see the subcommands).",
        subcommands = {EvalCaptionCommand.class, EvalVqaCommand.class, EvalRetrievalCommand.class})
final class EvalCommand {
}

package org.blipjava.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.blipjava.training.TinyModels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code blip init}: writes a freshly initialised model folder to start training from. */
@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes a BLIP model folder with freshly initialised weights (as the reference's _init_weights"
                + " draws them) in the Hugging Face layout: config, weights (safetensors), tokenizer files"
                + " (bert-base-uncased's vocabulary with BLIP's [DEC] and [ENC]), image-processor settings and, for"
                + " caption and vqa, generation settings.",
            "Only --tiny models are made: hidden size 32, two layers, 64-pixel images, for trying out training"
                + " (blip train --shapes-demo) and for tests.",
            "The same --seed writes the same weights. --output must be new or an empty folder; an existing model is"
                + " never overwritten, and the folder appears complete or not at all."})
final class InitCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--tiny", description = "Make a tiny model (required: the only size there is).")
    boolean tiny;

    @Option(names = "--output", paramLabel = "DIR", required = true,
            description = "The model folder to write; with --head all, the folder to write tiny-caption, tiny-vqa,"
                    + " tiny-itm and tiny-contrastive into.")
    Path output;

    @Option(names = "--head", paramLabel = "HEAD", defaultValue = "caption",
            description = "caption (BlipForConditionalGeneration), vqa (BlipForQuestionAnswering), itm"
                    + " (BlipForImageTextRetrieval), contrastive (BlipModel) or all (default: ${DEFAULT-VALUE}).")
    String head;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "Seed of the random weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--spread", paramLabel = "KIND", defaultValue = "reference",
            description = "reference (the reference's initialisation, normal(0, initializer_range)) or wide"
                    + " (normal(0, 0.25) like the fixture sets' random models: outputs far from constant, so a short"
                    + " training run shows learning) (default: ${DEFAULT-VALUE}).")
    String spread;

    @Override
    public Integer call() throws IOException {
        if (!tiny) {
            throw new ParameterException(spec.commandLine(),
                    "--tiny is required: tiny models are the only ones blip init makes");
        }
        TinyModels.Spread how = switch (spread.toLowerCase(Locale.ROOT)) {
            case "reference" -> TinyModels.Spread.REFERENCE;
            case "wide" -> TinyModels.Spread.WIDE;
            default -> throw new ParameterException(spec.commandLine(), "--spread " + spread
                    + ": use reference or wide");
        };
        String h = head.toLowerCase(Locale.ROOT);
        if (h.equals("all")) {
            TinyModels.writeAll(seed, how, output);
            spec.commandLine().getOut().println("wrote tiny models (seed " + seed + ") to " + output + ": "
                    + String.join(", ", java.util.Arrays.stream(TinyModels.Head.values())
                            .map(TinyModels.Head::folderName).toList()));
            return 0;
        }
        TinyModels.Head which = null;
        for (TinyModels.Head x : TinyModels.Head.values()) {
            if (x.cliName().equals(h)) {
                which = x;
            }
        }
        if (which == null) {
            throw new ParameterException(spec.commandLine(), "--head " + head
                    + ": unknown head; use caption, vqa, itm, contrastive or all");
        }
        TinyModels.write(which, seed, how, output);
        spec.commandLine().getOut().println("wrote a tiny " + which.architecture() + " (seed " + seed + ") to "
                + output);
        return 0;
    }
}

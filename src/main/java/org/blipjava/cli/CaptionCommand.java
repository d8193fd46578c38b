package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blip caption}: describes images. */
@Command(name = "caption", mixinStandardHelpOptions = true,
        description = {"Writes a caption for each image.",
            "Default model: Salesforce/blip-image-captioning-base."})
final class CaptionCommand extends ModelCommand {
    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files, directories or globs.")
    List<String> imageArgs;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "Text the caption starts with, e.g. \"a picture of\".")
    String prompt;

    @Mixin
    GenerationFlags generation;

    @Override
    String defaultModel() {
        return "Salesforce/blip-image-captioning-base";
    }

    @Override
    int run(Blip blip) {
        GenerationConfig g = generation.apply(blip.generationDefaults(), spec);
        List<Path> paths = expandImages(imageArgs);
        ArrayNode results = JSON.createArrayNode();
        StringBuilder text = new StringBuilder();
        List<Input> failed = forEachBatch(paths, batch -> {
            List<GeneratedText> out = blip.caption(images(batch), prompt, g);
            GeneratedTextOutput.add(results, text, batch, out, "caption");
        });
        if (common.json) {
            emitJson(document(results, failed));
        } else {
            emit(text.toString());
        }
        return exitCode(paths.size(), failed);
    }
}

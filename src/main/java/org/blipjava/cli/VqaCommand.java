package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** {@code blip vqa}: answers questions about images. */
@Command(name = "vqa", mixinStandardHelpOptions = true,
        description = {"Answers questions about images.",
            "Every image is asked every --question, or with --paired the i-th question is asked about the i-th image.",
            "Questions of one batch are padded to the longest, as the reference batches them.",
            "Default model: Salesforce/blip-vqa-base."})
final class VqaCommand extends ModelCommand {
    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files, directories or globs.")
    List<String> imageArgs;

    @Option(names = {"-q", "--question"}, required = true, paramLabel = "TEXT", description = "A question (repeat for several).")
    List<String> questions;

    @Option(names = "--paired", description = "Ask the i-th question about the i-th image (as many questions as images).")
    boolean paired;

    @Mixin
    GenerationFlags generation;

    @Override
    String defaultModel() {
        return "Salesforce/blip-vqa-base";
    }

    @Override
    void validate() {
        for (String q : questions) {
            if (q.isBlank()) {
                throw new ParameterException(spec.commandLine(), "--question must not be empty");
            }
        }
    }

    @Override
    int run(Blip blip) {
        GenerationConfig g = generation.apply(blip.generationDefaults(), spec);
        List<Path> paths = expandImages(imageArgs);
        if (paired && questions.size() != paths.size()) {
            throw new ParameterException(spec.commandLine(), "--paired needs one --question per image: "
                    + paths.size() + " images but " + questions.size() + " questions");
        }
        ArrayNode results = JSON.createArrayNode();
        StringBuilder text = new StringBuilder();
        List<Input> failed = forEachBatch(paths, batch -> {
            List<Input> pairInputs = new ArrayList<>();
            List<String> pairQuestions = new ArrayList<>();
            for (Input in : batch) {
                if (paired) {
                    pairInputs.add(in);
                    pairQuestions.add(questions.get(in.index()));
                } else {
                    for (String q : questions) {
                        pairInputs.add(in);
                        pairQuestions.add(q);
                    }
                }
            }
            List<GeneratedText> out = blip.answer(images(pairInputs), pairQuestions, g);
            GeneratedTextOutput.add(results, text, pairInputs, out, "answer", pairQuestions.toArray(String[]::new));
        });
        if (common.json) {
            emitJson(document(results, failed));
        } else {
            emit(text.toString());
        }
        return exitCode(paths.size(), failed);
    }
}

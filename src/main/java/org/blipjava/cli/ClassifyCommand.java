package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.ZeroShotClassifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** {@code blip classify}: zero-shot classification with CLIP's prompt templates. */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Zero-shot image classification: which label fits each image best.",
            "Each label is written into every --template, embedded, and averaged over the templates; probabilities"
                + " are the softmax over labels of the model's logit scale times the cosine.",
            "Takes CLIP, FLAVA and BLIP (retrieval or BlipModel) checkpoints.",
            "Default model: openai/clip-vit-base-patch32."})
final class ClassifyCommand extends ModelCommand {
    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files, directories or globs.")
    List<String> imageArgs;

    @Option(names = {"-l", "--labels"}, split = ",", paramLabel = "LABEL",
            description = "Labels, comma-separated or repeated (e.g. --labels beach,food,home).")
    List<String> labels = new ArrayList<>();

    @Option(names = "--labels-file", paramLabel = "FILE", description = "A file with one label per line (blank lines ignored).")
    Path labelsFile;

    @Option(names = "--template", paramLabel = "TEXT",
            description = "A prompt with {} where the label goes; repeat to ensemble several "
                    + "(default: \"a photo of {}.\"; \"{}\" alone uses the bare label).")
    List<String> templates = new ArrayList<>();

    @Option(names = {"-k", "--top-k"}, paramLabel = "N", defaultValue = "5",
            description = "Labels to print per image (default ${DEFAULT-VALUE}, at most the number of labels).")
    int topK;

    @Override
    String defaultModel() {
        return "openai/clip-vit-base-patch32";
    }

    @Override
    void validate() {
        if (labelsFile != null) {
            try {
                Files.readAllLines(labelsFile).stream().map(String::strip).filter(s -> !s.isEmpty()).forEach(labels::add);
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "--labels-file " + labelsFile + ": " + Errors.describe(e));
            }
        }
        labels = labels.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (labels.size() < 2) {
            throw new ParameterException(spec.commandLine(), "give at least two labels with --labels or --labels-file");
        }
        if (labels.stream().distinct().count() != labels.size()) {
            throw new ParameterException(spec.commandLine(), "a label is given twice: " + labels);
        }
        for (String t : templates) {
            if (!t.contains(ZeroShotClassifier.PLACEHOLDER)) {
                throw new ParameterException(spec.commandLine(), "--template \"" + t + "\" has no {} where the label goes");
            }
        }
        if (topK < 1) {
            throw new ParameterException(spec.commandLine(), "--top-k must be at least 1, got " + topK);
        }
    }

    @Override
    int run(ImageTextModel model) {
        List<Path> paths = expandImages(imageArgs);
        List<String> tpl = templates.isEmpty() ? List.of("a photo of {}.") : templates;
        ZeroShotClassifier classifier = new ZeroShotClassifier(model, labels, tpl);
        ArrayNode results = JSON.createArrayNode();
        StringBuilder text = new StringBuilder();
        String nl = System.lineSeparator();
        List<Input> failed = forEachBatch(paths, batch -> {
            List<List<ZeroShotClassifier.Prediction>> preds = classifier.classify(images(batch), topK);
            for (int i = 0; i < batch.size(); i++) {
                String image = batch.get(i).path().toString();
                ObjectNode r = results.addObject().put("image", image).put("label", preds.get(i).getFirst().label());
                ArrayNode top = r.putArray("predictions");
                text.append(PlainText.path(batch.get(i).path()));
                for (ZeroShotClassifier.Prediction p : preds.get(i)) {
                    top.addObject().put("label", p.label()).put("probability", p.probability()).put("itc", p.cosine());
                    text.append('\t').append(PlainText.field(p.label())).append(String.format(Locale.ROOT, " %.4f", p.probability()));
                }
                text.append(nl);
            }
        });
        if (common.json) {
            ObjectNode doc = document(results, failed);
            doc.putArray("labels").addAll(labels.stream().map(JSON.getNodeFactory()::textNode).toList());
            doc.putArray("templates").addAll(tpl.stream().map(JSON.getNodeFactory()::textNode).toList());
            emitJson(doc);
        } else {
            emit(text.toString());
        }
        return exitCode(paths.size(), failed);
    }
}

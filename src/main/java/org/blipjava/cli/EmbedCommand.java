package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.blipjava.serve.ResultJson;
import org.blipjava.tasks.ImageTextModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** {@code blip embed}: normalized image and text features. */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Prints normalized contrastive (ITC) features of images and texts.",
            "The features are L2-normalized, so the dot product of two is their cosine similarity.",
            "Takes BLIP (retrieval or BlipModel), CLIP and FLAVA checkpoints.",
            "Default model: Salesforce/blip-itm-base-coco."})
final class EmbedCommand extends ModelCommand {
    @Parameters(arity = "0..*", paramLabel = "IMAGE", description = "Image files, directories or globs.")
    List<String> imageArgs = new ArrayList<>();

    @Option(names = {"-t", "--text"}, paramLabel = "TEXT", description = "A text to embed (repeat for several).")
    List<String> texts = new ArrayList<>();

    @Override
    String defaultModel() {
        return "Salesforce/blip-itm-base-coco";
    }

    @Override
    void validate() {
        if (imageArgs.isEmpty() && texts.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "give images to embed, --text, or both");
        }
    }

    @Override
    int run(ImageTextModel model) {
        List<Path> paths = expandImages(imageArgs);
        ArrayNode results = JSON.createArrayNode();
        StringBuilder text = new StringBuilder();
        List<Input> failed = forEachBatch(paths, batch -> {
            float[][] feats = model.embedImages(images(batch));
            for (int i = 0; i < batch.size(); i++) {
                add(results, text, "image", batch.get(i).path().toString(), PlainText.path(batch.get(i).path()), feats[i]);
            }
        });
        for (int start = 0; start < texts.size(); start += common.batchSize) {
            List<String> chunk = texts.subList(start, Math.min(texts.size(), start + common.batchSize));
            float[][] feats = model.embedTexts(chunk);
            for (int i = 0; i < chunk.size(); i++) {
                add(results, text, "text", chunk.get(i), PlainText.field(chunk.get(i)), feats[i]);
            }
        }
        if (common.json) {
            emitJson(document(results, failed));
        } else {
            emit(text.toString());
        }
        return exitCode(paths.size(), failed);
    }

    /** One result: {@code name} in the JSON, {@code shown} (escaped) on the text line. */
    private static void add(ArrayNode results, StringBuilder text, String kind, String name, String shown, float[] v) {
        ObjectNode r = results.addObject();
        r.put(kind, name);
        ResultJson.embedding(r, v);
        text.append(shown);
        char sep = '\t';
        for (float x : v) {
            text.append(sep).append(x);
            sep = ' ';
        }
        text.append(System.lineSeparator());
    }
}

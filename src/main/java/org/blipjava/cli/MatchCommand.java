package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.blipjava.serve.ResultJson;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.MatchScores;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blip match}: ITM probability and ITC cosine for every image x text. */
@Command(name = "match", mixinStandardHelpOptions = true,
        description = {"Scores every image against every text (ITM probability, ITC cosine).",
            "ITM is the image-grounded encoder's match probability, ITC the cosine similarity of the contrastive features.",
            "Takes BLIP, CLIP and FLAVA checkpoints; ITM only where the model has a matching head (BLIP retrieval,"
                + " FLAVA pre-training).",
            "Default model: Salesforce/blip-itm-base-coco."})
final class MatchCommand extends ModelCommand {
    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files, directories or globs.")
    List<String> imageArgs;

    @Option(names = {"-t", "--text"}, required = true, paramLabel = "TEXT", description = "A text to match (repeat for several).")
    List<String> texts;

    @Override
    String defaultModel() {
        return "Salesforce/blip-itm-base-coco";
    }

    @Override
    int run(ImageTextModel model) {
        List<Path> paths = expandImages(imageArgs);
        ArrayNode results = JSON.createArrayNode();
        StringBuilder text = new StringBuilder();
        boolean itm = model.hasMatchHead();
        if (!common.json) {
            text.append(itm ? "image\ttext\titm\titc" : "image\ttext\titc").append(System.lineSeparator());
        }
        List<Input> failed = forEachBatch(paths, batch -> {
            MatchScores s = model.match(images(batch), texts);
            for (int i = 0; i < batch.size(); i++) {
                String image = batch.get(i).path().toString();
                for (int t = 0; t < texts.size(); t++) {
                    ObjectNode r = results.addObject().put("image", image).put("text", texts.get(t));
                    text.append(PlainText.path(batch.get(i).path())).append('\t').append(PlainText.field(texts.get(t)))
                            .append('\t');
                    ResultJson.scores(r, itm ? s.itm(i, t) : null, s.itc(i, t));
                    if (itm) {
                        text.append(String.format(Locale.ROOT, "%.4f\t", s.itm(i, t)));
                    }
                    text.append(String.format(Locale.ROOT, "%.4f", s.itc(i, t))).append(System.lineSeparator());
                }
            }
        });
        if (common.json) {
            emitJson(document(results, failed));
        } else {
            emit(text.toString());
        }
        return exitCode(paths.size(), failed);
    }
}

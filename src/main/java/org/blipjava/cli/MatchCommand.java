package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.MatchScores;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blip match}: ITM probability and ITC cosine for every image x text. */
@Command(name = "match", mixinStandardHelpOptions = true,
        description = {"Scores every image against every text (ITM probability, ITC cosine).",
            "ITM is the image-grounded encoder's match probability, ITC the cosine similarity of the contrastive features.",
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
    int run(Blip blip) {
        List<Path> paths = expandImages(imageArgs);
        ArrayNode results = JSON.createArrayNode();
        StringBuilder text = new StringBuilder();
        if (!common.json) {
            text.append("image\ttext\titm\titc").append(System.lineSeparator());
        }
        List<Input> failed = forEachBatch(paths, batch -> {
            MatchScores s = blip.match(images(batch), texts);
            for (int i = 0; i < batch.size(); i++) {
                String image = batch.get(i).path().toString();
                for (int t = 0; t < texts.size(); t++) {
                    results.addObject().put("image", image).put("text", texts.get(t))
                            .put("itm", s.itm(i, t)).put("itc", s.itc(i, t));
                    text.append(image).append('\t').append(texts.get(t)).append('\t')
                            .append(String.format(Locale.ROOT, "%.4f\t%.4f", s.itm(i, t), s.itc(i, t)))
                            .append(System.lineSeparator());
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

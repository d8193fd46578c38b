package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.blipjava.serve.ResultJson;
import org.blipjava.tasks.GeneratedText;

/** Formats generated captions and answers as JSON results and as text lines. */
final class GeneratedTextOutput {
    private GeneratedTextOutput() {}

    /**
     * Adds one result per input; with several return sequences per input the first is the
     * result's text and all are listed under {@code "sequences"}.
     *
     * @param outputs {@code outputs.size() / batch.size()} sequences per input, input by input
     * @param extra   per input, a field to add (e.g. the question), or null
     */
    static void add(ArrayNode results, StringBuilder text, List<ModelCommand.Input> batch,
            List<GeneratedText> outputs, String field, String... extra) {
        int per = outputs.size() / batch.size();
        for (int i = 0; i < batch.size(); i++) {
            String image = batch.get(i).path().toString();
            List<GeneratedText> mine = outputs.subList(i * per, (i + 1) * per);
            ObjectNode r = results.addObject();
            r.put("image", image);
            if (extra.length > i && extra[i] != null) {
                r.put("question", extra[i]);
            }
            ResultJson.generated(r, field, mine);
            text.append(PlainText.path(batch.get(i).path()));
            if (extra.length > i && extra[i] != null) {
                text.append('\t').append(PlainText.field(extra[i]));
            }
            for (GeneratedText t : mine) {
                text.append('\t').append(PlainText.field(t.text()));
            }
            text.append(System.lineSeparator());
        }
    }
}

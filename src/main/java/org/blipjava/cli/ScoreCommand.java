package org.blipjava.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.blipjava.metrics.CaptionScores;
import org.blipjava.metrics.CaptionSet;
import org.blipjava.metrics.Meteor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code blip score}: caption metrics of existing captions against references. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Scores existing captions against references with BLEU-1..4, ROUGE-L, CIDEr-D and METEOR, as"
                + " the coco-caption toolkit computes them (METEOR without paraphrase matching).",
            "Both files map image ids to lists of captions; candidates have one caption per image."})
final class ScoreCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Option(names = "--references", required = true, paramLabel = "FILE",
            description = "JSON object: image id -> list of reference captions.")
    Path references;

    @Option(names = "--candidates", required = true, paramLabel = "FILE",
            description = "JSON object: image id -> one-element list with the caption to score.")
    Path candidates;

    @Option(names = "--pretokenized",
            description = "Captions are already tokenized (lower case, space-separated); skip the PTB tokenization.")
    boolean pretokenized;

    @Option(names = "--per-image", description = "Also print every metric for each image.")
    boolean perImage;

    @Option(names = "--json", description = "Print one JSON document instead of text.")
    boolean json;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Write the output to FILE (atomically) instead of stdout.")
    Path output;

    @Option(names = {"-v", "--verbose"}, description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() throws IOException {
        Map<String, List<String>> refs = readCaptions(references, false);
        Map<String, List<String>> cands = readCaptions(candidates, true);
        Map<String, String> single = new LinkedHashMap<>();
        cands.forEach((id, list) -> single.put(id, list.get(0)));
        CaptionSet set;
        try {
            set = CaptionSet.of(refs, single);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(candidates + " and " + references + ": " + e.getMessage(), e);
        }
        CaptionScores scores = CaptionScores.score(set, pretokenized, Meteor.english());
        emit(json ? JSON.writeValueAsString(toJson(scores)) + System.lineSeparator() : toText(scores));
        return 0;
    }

    /** Reads an id -> list of captions file; candidates must have exactly one caption each. */
    static Map<String, List<String>> readCaptions(Path file, boolean candidates) throws IOException {
        String shape = candidates ? "image ids to one-element lists with the caption to score"
                : "image ids to lists of reference captions";
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException((candidates ? "--candidates " : "--references ") + file
                    + ": is a directory; expected a JSON file mapping " + shape);
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + "): " + e.getOriginalMessage(), e);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text", e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": expected a JSON object mapping " + shape);
        }
        if (root.isEmpty()) {
            throw new IllegalArgumentException(file + ": no image ids; expected a JSON object mapping " + shape);
        }
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            JsonNode v = e.getValue();
            String where = file + ": image id '" + e.getKey() + "'";
            if (!v.isArray()) {
                throw new IllegalArgumentException(where + ": expected a list of caption strings, got "
                        + v.getNodeType().toString().toLowerCase(Locale.ROOT));
            }
            List<String> captions = new ArrayList<>();
            for (JsonNode c : v) {
                if (!c.isTextual()) {
                    throw new IllegalArgumentException(where + ": captions must be strings, got "
                            + c.getNodeType().toString().toLowerCase(Locale.ROOT));
                }
                captions.add(c.asText());
            }
            if (candidates && captions.size() != 1) {
                throw new IllegalArgumentException(where + ": expected a one-element list with the caption to score, got "
                        + captions.size() + " captions");
            }
            if (captions.isEmpty()) {
                throw new IllegalArgumentException(where + ": no reference captions");
            }
            out.put(e.getKey(), captions);
        }
        return out;
    }

    private ObjectNode toJson(CaptionScores s) {
        ObjectNode doc = JSON.createObjectNode();
        ArrayNode bleu = doc.putArray("bleu");
        s.bleu().corpus().forEach(bleu::add);
        doc.put("rouge_l", s.rougeL().corpus());
        doc.put("cider_d", s.ciderD().corpus());
        doc.put("meteor", s.meteor().corpus());
        if (perImage) {
            ObjectNode per = doc.putObject("per_image");
            for (int i = 0; i < s.ids().size(); i++) {
                ObjectNode img = per.putObject(s.ids().get(i));
                ArrayNode b = img.putArray("bleu");
                for (List<Double> order : s.bleu().perImage()) {
                    b.add(order.get(i));
                }
                img.put("rouge_l", s.rougeL().perImage().get(i));
                img.put("cider_d", s.ciderD().perImage().get(i));
                img.put("meteor", s.meteor().perImage().get(i));
            }
        }
        return doc;
    }

    private String toText(CaptionScores s) {
        StringBuilder sb = new StringBuilder();
        String nl = System.lineSeparator();
        for (int n = 0; n < s.bleu().corpus().size(); n++) {
            sb.append(String.format(Locale.ROOT, "BLEU-%d   %.6f", n + 1, s.bleu().corpus().get(n))).append(nl);
        }
        sb.append(String.format(Locale.ROOT, "ROUGE-L  %.6f", s.rougeL().corpus())).append(nl);
        sb.append(String.format(Locale.ROOT, "CIDEr-D  %.6f", s.ciderD().corpus())).append(nl);
        sb.append(String.format(Locale.ROOT, "METEOR   %.6f", s.meteor().corpus())).append(nl);
        if (perImage) {
            sb.append(nl).append("image\tBLEU-1\tBLEU-2\tBLEU-3\tBLEU-4\tROUGE-L\tCIDEr-D\tMETEOR").append(nl);
            for (int i = 0; i < s.ids().size(); i++) {
                sb.append(s.ids().get(i));
                for (List<Double> order : s.bleu().perImage()) {
                    sb.append(String.format(Locale.ROOT, "\t%.6f", order.get(i)));
                }
                sb.append(String.format(Locale.ROOT, "\t%.6f\t%.6f\t%.6f", s.rougeL().perImage().get(i),
                        s.ciderD().perImage().get(i), s.meteor().perImage().get(i))).append(nl);
            }
        }
        return sb.toString();
    }

    /** Writes to stdout, or atomically to --output. */
    private void emit(String text) {
        Emit.text(spec, output, text);
    }
}

package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.blipjava.data.Dataset;
import org.blipjava.data.Skipped;
import org.blipjava.data.VqaDatasets;
import org.blipjava.data.VqaSample;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.RgbImage;
import org.blipjava.metrics.VqaAccuracy;
import org.blipjava.report.EvalReport;
import org.blipjava.report.HtmlReport;
import org.blipjava.report.HtmlReport.Column;
import org.blipjava.report.HtmlReport.Kind;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code blip eval vqa}: answers a dataset's questions, scores VQA accuracy and writes JSON and HTML reports. */
@Command(name = "vqa", mixinStandardHelpOptions = true,
        description = {"Answers a VQA dataset and scores it; writes JSON and HTML reports.",
            "Answers the questions of a VQA dataset (a JSON list or JSONL of {\"image\", \"question\", "
                + "\"answer\": [..]}), scores them with the VQAv2 accuracy and writes report.json and report.html "
                + "to --report-dir. Questions without human answers are answered but not scored.",
            "Answers are generated (BLIP's open-ended mode), not ranked against an answer list.",
            "Default model: Salesforce/blip-vqa-base."})
final class EvalVqaCommand extends DatasetEvalCommand {
    @Option(names = "--split", paramLabel = "NAME", description = "Keep only entries of this split (entries without one are kept).")
    String split;

    @Option(names = "--limit", paramLabel = "N", description = "Evaluate only the first N questions.")
    Integer limit;

    @Override
    String defaultModel() {
        return "Salesforce/blip-vqa-base";
    }

    @Override
    Integer limit() {
        return limit;
    }

    private record Item(VqaSample sample, String answer, Double accuracy, String thumbnail) {}

    @Override
    int run(Blip blip) {
        GenerationConfig g = generation.apply(blip.generationDefaults(), spec);
        Dataset<VqaSample> ds = VqaDatasets.read(dataset, images, split).limit(limit);
        if (ds.samples().isEmpty()) {
            throw new ParameterException(spec.commandLine(), dataset + ": no usable questions"
                    + skippedHint(ds.skipped()));
        }
        List<VqaSample> all = ds.samples();
        List<Item> items = new ArrayList<>();
        List<Input> failed = forEachBatch(all.stream().map(VqaSample::image).toList(), batch -> {
            List<RgbImage> imgs = images(batch);
            List<String> questions = batch.stream().map(in -> all.get(in.index()).question()).toList();
            List<GeneratedText> out = blip.answer(imgs, questions, g);
            int per = out.size() / batch.size();
            for (int i = 0; i < batch.size(); i++) {
                VqaSample s = all.get(batch.get(i).index());
                String answer = out.get(i * per).text();
                Double acc = s.answers().isEmpty() ? null : VqaAccuracy.accuracy(answer, s.answers());
                items.add(new Item(s, answer, acc, thumbnail(imgs.get(i))));
            }
        });
        List<Skipped> unreadable = failed.stream().map(f -> new Skipped(all.get(f.index()).id(), f.error())).toList();
        if (items.isEmpty()) {
            throw noneReadable(all.size(), unreadable);
        }
        List<Item> scored = items.stream().filter(it -> it.accuracy() != null).toList();
        Double accuracy = scored.isEmpty() ? null
                : scored.stream().mapToDouble(Item::accuracy).sum() / scored.size();

        ObjectNode doc = JSON.createObjectNode();
        doc.put("task", "vqa");
        doc.put("model", blip.directory().toString());
        doc.put("dataset", dataset.toString());
        doc.put("format", ds.format());
        if (split != null) {
            doc.put("split", split);
        }
        doc.put("generation", g.toString());
        doc.put("questions", items.size());
        doc.put("scored", scored.size());
        if (accuracy == null) {
            doc.putNull("accuracy");
        } else {
            doc.put("accuracy", accuracy);
        }
        HtmlReport.Builder html = HtmlReport.builder("VQA evaluation: " + dataset.getFileName())
                .summary("model", blip.directory().toString())
                .summary("dataset", dataset + (split == null ? "" : " (split " + split + ")"))
                .summary("questions", items.size() + " (" + scored.size() + " with human answers)")
                .summary("generation", g.toString())
                .summary("VQA accuracy", accuracy == null ? "n/a (no human answers)" : fmt(accuracy))
                .columns(List.of(new Column("image", Kind.IMAGE), new Column("id", Kind.TEXT),
                        new Column("question", Kind.TEXT), new Column("answer", Kind.TEXT),
                        new Column("human answers", Kind.TEXT), new Column("accuracy", Kind.NUMBER)));
        ArrayNode per = doc.putArray("per_question");
        for (Item it : items) {
            ObjectNode row = per.addObject();
            row.put("id", it.sample().id());
            row.put("image", it.sample().image().toString());
            row.put("question", it.sample().question());
            row.put("answer", it.answer());
            ArrayNode h = row.putArray("answers");
            it.sample().answers().forEach(h::add);
            if (it.accuracy() == null) {
                row.putNull("accuracy");
            } else {
                row.put("accuracy", it.accuracy());
            }
            html.row(Arrays.asList(it.thumbnail(), it.sample().id(), it.sample().question(), it.answer(),
                    it.sample().answers(), it.accuracy()));
        }
        reportSkipped(doc.putArray("skipped"), html, ds.skipped(), unreadable);
        EvalReport report = new EvalReport(doc, html.build());
        report.write(reportDir);
        if (common.json) {
            ObjectNode out = JSON.createObjectNode();
            out.set("accuracy", doc.get("accuracy"));
            out.put("questions", items.size());
            out.put("scored", scored.size());
            emitJson(out);
        } else {
            int nSkipped = ds.skipped().size() + unreadable.size();
            emit(String.format(Locale.ROOT, "%d questions answered, %d scored%s%nVQA accuracy %s%nreport: %s%n",
                    items.size(), scored.size(), nSkipped == 0 ? "" : ", " + nSkipped + " skipped",
                    accuracy == null ? "n/a" : fmt(accuracy), reportDir.resolve(EvalReport.HTML_FILE)));
        }
        return 0;
    }
}

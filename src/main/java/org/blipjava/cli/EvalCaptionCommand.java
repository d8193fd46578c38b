package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.blipjava.data.CaptionDatasets;
import org.blipjava.data.CaptionSample;
import org.blipjava.data.Dataset;
import org.blipjava.data.Skipped;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.RgbImage;
import org.blipjava.metrics.CaptionScores;
import org.blipjava.metrics.CaptionSet;
import org.blipjava.metrics.Meteor;
import org.blipjava.report.EvalReport;
import org.blipjava.report.HtmlReport;
import org.blipjava.report.HtmlReport.Column;
import org.blipjava.report.HtmlReport.Kind;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code blip eval caption}: captions a dataset's images, scores them and writes JSON and HTML reports. */
@Command(name = "caption", mixinStandardHelpOptions = true,
        description = {"Captions a dataset and scores it; writes JSON and HTML reports.",
            "Captions the images of a dataset, scores the captions against the references with BLEU-1..4, METEOR, "
                + "ROUGE-L and CIDEr-D (for the corpus and per image), and writes report.json and report.html to "
                + "--report-dir. Missing or unreadable images are skipped and listed in the reports.",
            "Datasets: COCO Karpathy dataset_coco.json, BLIP's coco_karpathy_*.json, Flickr30k results.csv, "
                + "or a folder with captions.jsonl / captions.csv ({\"image\", \"caption\"}).",
            "Default model: Salesforce/blip-image-captioning-base."})
final class EvalCaptionCommand extends DatasetEvalCommand {
    @Option(names = "--split", paramLabel = "NAME", defaultValue = "test",
            description = "Split to evaluate where the dataset has splits (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--limit", paramLabel = "N", description = "Evaluate only the first N images.")
    Integer limit;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "Text the caption starts with; removed before scoring.")
    String prompt;

    @Override
    String defaultModel() {
        return "Salesforce/blip-image-captioning-base";
    }

    @Override
    Integer limit() {
        return limit;
    }

    private record Item(CaptionSample sample, String caption, String thumbnail) {}

    @Override
    int run(Blip blip) {
        GenerationConfig g = generation.apply(blip.generationDefaults(), spec);
        Dataset<CaptionSample> ds = CaptionDatasets.read(dataset, images, split).limit(limit);
        if (ds.samples().isEmpty()) {
            throw new ParameterException(spec.commandLine(), dataset + ": no usable images" + skippedHint(ds.skipped()));
        }
        List<Item> items = new ArrayList<>();
        List<Skipped> unreadable = new ArrayList<>();
        List<CaptionSample> all = ds.samples();
        List<Path> paths = all.stream().map(CaptionSample::image).toList();
        List<Input> failed = forEachBatch(paths, batch -> {
            List<RgbImage> imgs = images(batch);
            List<GeneratedText> out = blip.caption(imgs, prompt, g);
            int per = out.size() / batch.size();
            for (int i = 0; i < batch.size(); i++) {
                CaptionSample s = all.get(batch.get(i).index());
                    items.add(new Item(s, GeneratedText.withoutPrompt(out.get(i * per).text(), prompt), thumbnail(imgs.get(i))));
            }
        });
        for (Input f : failed) {
            unreadable.add(new Skipped(all.get(f.index()).id(), f.error()));
        }
        if (items.isEmpty()) {
            throw noneReadable(all.size(), unreadable);
        }
        Map<String, List<String>> refs = new LinkedHashMap<>();
        Map<String, String> cands = new LinkedHashMap<>();
        for (Item it : items) {
            refs.put(it.sample().id(), it.sample().captions());
            cands.put(it.sample().id(), it.caption());
        }
        CaptionScores scores = CaptionScores.score(CaptionSet.of(refs, cands), false, Meteor.english());
        EvalReport report = report(blip, ds, g, items, unreadable, scores);
        report.write(reportDir);
        if (common.json) {
            ObjectNode out = JSON.createObjectNode();
            out.set("corpus", report.json().get("corpus"));
            out.put("images", items.size());
            out.put("skipped", ds.skipped().size() + unreadable.size());
            out.put("report", reportDir.resolve(EvalReport.HTML_FILE).toString());
            emitJson(out);
        } else {
            emit(summary(scores, items.size(), ds.skipped().size() + unreadable.size()));
        }
        return 0;
    }

    private static final String[] BLEU = {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4"};

    private String summary(CaptionScores s, int scored, int skipped) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%d images scored", scored));
        if (skipped > 0) {
            b.append(String.format(Locale.ROOT, ", %d skipped (see %s)", skipped, reportDir.resolve(EvalReport.JSON_FILE)));
        }
        b.append(System.lineSeparator());
        for (int n = 0; n < 4; n++) {
            b.append(String.format(Locale.ROOT, "%-8s %.4f%n", BLEU[n], s.bleu().corpus().get(n)));
        }
        b.append(String.format(Locale.ROOT, "%-8s %.4f%n", "METEOR", s.meteor().corpus()));
        b.append(String.format(Locale.ROOT, "%-8s %.4f%n", "ROUGE-L", s.rougeL().corpus()));
        b.append(String.format(Locale.ROOT, "%-8s %.4f%n", "CIDEr-D", s.ciderD().corpus()));
        b.append("report: ").append(reportDir.resolve(EvalReport.HTML_FILE)).append(System.lineSeparator());
        return b.toString();
    }

    private EvalReport report(Blip blip, Dataset<CaptionSample> ds, GenerationConfig g, List<Item> items,
            List<Skipped> unreadable, CaptionScores s) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("task", "caption");
        doc.put("model", blip.directory().toString());
        doc.put("dataset", dataset.toString());
        doc.put("format", ds.format());
        doc.put("split", split);
        if (prompt != null) {
            doc.put("prompt", prompt);
        }
        doc.put("generation", g.toString());
        doc.put("images", items.size());
        ObjectNode corpus = doc.putObject("corpus");
        ArrayNode bleu = corpus.putArray("bleu");
        s.bleu().corpus().forEach(bleu::add);
        corpus.put("meteor", s.meteor().corpus());
        corpus.put("rouge_l", s.rougeL().corpus());
        corpus.put("cider_d", s.ciderD().corpus());
        ArrayNode per = doc.putArray("per_image");
        HtmlReport.Builder html = HtmlReport.builder("Caption evaluation: " + dataset.getFileName())
                .summary("model", blip.directory().toString())
                .summary("dataset", dataset + " (" + ds.format() + ", split " + split + ")")
                .summary("images scored", String.valueOf(items.size()))
                .summary("generation", g.toString() + (prompt == null ? "" : ", prompt \"" + prompt + "\""));
        for (int n = 0; n < 4; n++) {
            html.summary(BLEU[n], fmt(s.bleu().corpus().get(n)));
        }
        html.summary("METEOR", fmt(s.meteor().corpus())).summary("ROUGE-L", fmt(s.rougeL().corpus()))
                .summary("CIDEr-D", fmt(s.ciderD().corpus()));
        html.columns(List.of(new Column("image", Kind.IMAGE), new Column("id", Kind.TEXT),
                new Column("generated", Kind.TEXT), new Column("references", Kind.TEXT),
                new Column("BLEU-1", Kind.NUMBER), new Column("BLEU-4", Kind.NUMBER), new Column("METEOR", Kind.NUMBER),
                new Column("ROUGE-L", Kind.NUMBER), new Column("CIDEr-D", Kind.NUMBER)));
        Map<String, Item> byId = new LinkedHashMap<>();
        items.forEach(it -> byId.put(it.sample().id(), it));
        for (int i = 0; i < s.ids().size(); i++) {
            Item it = byId.get(s.ids().get(i));
            ObjectNode row = per.addObject();
            row.put("id", it.sample().id());
            row.put("image", it.sample().image().toString());
            row.put("caption", it.caption());
            ArrayNode r = row.putArray("references");
            it.sample().captions().forEach(r::add);
            ObjectNode sc = row.putObject("scores");
            ArrayNode b = sc.putArray("bleu");
            for (int n = 0; n < 4; n++) {
                b.add(s.bleu().perImage().get(n).get(i));
            }
            sc.put("meteor", s.meteor().perImage().get(i));
            sc.put("rouge_l", s.rougeL().perImage().get(i));
            sc.put("cider_d", s.ciderD().perImage().get(i));
            html.row(java.util.Arrays.asList(it.thumbnail(), it.sample().id(), it.caption(), it.sample().captions(),
                    s.bleu().perImage().get(0).get(i), s.bleu().perImage().get(3).get(i), s.meteor().perImage().get(i),
                    s.rougeL().perImage().get(i), s.ciderD().perImage().get(i)));
        }
        reportSkipped(doc.putArray("skipped"), html, ds.skipped(), unreadable);
        return new EvalReport(doc, html.build());
    }
}
